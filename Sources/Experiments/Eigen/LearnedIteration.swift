// The learned iteration: an LSTM, shared across coordinates, that maps [x_k, M x_k, xᵀMx] to the next iterate.
// Trained on random symmetric matrices of one family (teacher trajectories, then its own), cached as a checkpoint.
import Foundation
import Problems
import Recurrent
import Reference
import Support

/// How the learned iteration is trained. The fingerprint of these options names the cached checkpoint.
public struct LearnedIterationOptions: Codable, Hashable, Sendable {
    /// The training family: random symmetric matrices of this size and distribution.
    public var dimension = 12
    public var distribution: EntryDistribution = .uniform
    public var trainingMatrices = 32
    public var validationMatrices = 16
    /// Random starts per training matrix.
    public var startsPerMatrix = 2
    /// Iterations per training sequence.
    public var unroll = 24
    public var hiddenSize = 16
    public var epochs = 12
    public var learningRate = 3e-3
    /// Data rounds: round 0 follows the normalised discrete Yi iteration (step `teacherStep`); each later round adds
    /// the network's own closed-loop trajectories with the same targets (DAgger, Ross et al. 2011).
    public var rounds = 1
    public var teacherStep = 0.5
    /// Epochs between closed-loop checks on the validation matrices (the best checked weights are kept).
    public var epochsPerCheck = 1
    /// Networks trained from different initial weights; the best in closed loop is kept.
    public var candidates = 3
    /// Products of the closed-loop check.
    public var closedLoopBudget = 300
    public var seed: UInt64 = 0
    public init() {}

    /// A stable 64-bit FNV-1a hash of the options (sorted-key JSON).
    public var fingerprint: String {
        let encoder = JSONEncoder(); encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(self)) ?? Data()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }

    /// Seeds of the training (stream 1), validation (stream 2) and held-out (stream 3) members of the family.
    public func familySeeds(stream: UInt64, count: Int) -> [UInt64] {
        var generator = SplitMix64(seed: seed &* 0x9E37_79B9 &+ stream &* 0xD1B5_4A32_D192_ED03)
        return (0..<count).map { _ in generator.next() }
    }
}

/// A trained learned iteration: the network and the scale of its outputs.
public final class LearnedIteration: @unchecked Sendable {
    public static let featureCount = 5
    public let network: RecurrentNetwork
    public let options: LearnedIterationOptions
    /// Network outputs are the correction in units of this scale.
    public let targetScale: Double
    /// Training wall time (0 when loaded from the cache), and whether it came from the cache.
    public internal(set) var trainingSeconds: Double = 0
    public internal(set) var loadedFromCache = false
    public internal(set) var history: [EpochRecord] = []
    /// Closed-loop score of the kept weights (mean products to converge on the validation matrices; nil when cached).
    public internal(set) var validationScore: Double? = nil

    init(network: RecurrentNetwork, options: LearnedIterationOptions, targetScale: Double) {
        self.network = network; self.options = options; self.targetScale = targetScale
    }

    /// The checkpoint file for `options` under `directory` (e.g. DIR/models).
    public static func checkpointURL(in directory: URL, options: LearnedIterationOptions) -> URL {
        directory.appendingPathComponent("eigen-lstm-n\(options.dimension)-\(options.fingerprint).ckpt")
    }

    /// Loads the cached model for `options` from `directory`, or trains it and caches it there (atomically).
    public static func loadOrTrain(options: LearnedIterationOptions, directory: URL?) throws -> LearnedIteration {
        let encoder = JSONEncoder(); encoder.outputFormatting = .sortedKeys
        let optionsText = String(decoding: try encoder.encode(options), as: UTF8.self)
        if let directory {
            let url = checkpointURL(in: directory, options: options)
            if FileManager.default.fileExists(atPath: url.path) {
                let checkpoint = try Checkpoint.read(from: url)
                guard checkpoint.strings["eigen.options"] == optionsText, let scale = checkpoint.arrays["eigen.target_scale"]?.first else {
                    throw EigenExperimentError("\(url.path): the cached learned-iteration model was trained with other options; delete it to retrain")
                }
                let model = LearnedIteration(network: try RecurrentNetwork(checkpoint: checkpoint), options: options, targetScale: scale)
                model.loadedFromCache = true
                return model
            }
        }
        let model = try train(options: options)
        if let directory {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var checkpoint = model.network.checkpoint()
            checkpoint.arrays["eigen.target_scale"] = [model.targetScale]
            checkpoint.strings["eigen.options"] = optionsText
            try checkpoint.write(to: checkpointURL(in: directory, options: options))
        }
        return model
    }

    /// Trains on the family's training members; early stopping on the validation members.
    public static func train(options: LearnedIterationOptions) throws -> LearnedIteration {
        let clock = ContinuousClock.now
        let family = RandomSymmetricFamily(dimension: options.dimension, distribution: options.distribution)
        let training = try options.familySeeds(stream: 1, count: options.trainingMatrices).map { try TrainingMatrix(family.member(seed: $0), dimension: options.dimension) }
        let validation = try options.familySeeds(stream: 2, count: options.validationMatrices).map { try TrainingMatrix(family.member(seed: $0), dimension: options.dimension) }
        var startGenerator = SplitMix64(seed: options.seed ^ 0x5354_4152_5453)

        // Round 0: teacher trajectories fix the output scale.
        var trainingSet = EigenSequenceBuilder(unroll: options.unroll)
        var validationSet = EigenSequenceBuilder(unroll: options.unroll)
        for matrix in training { for _ in 0..<options.startsPerMatrix { trainingSet.addTeacher(matrix, start: randomUnitVector(options.dimension, &startGenerator), step: options.teacherStep) } }
        for matrix in validation { validationSet.addTeacher(matrix, start: randomUnitVector(options.dimension, &startGenerator), step: options.teacherStep) }
        let scale = max(trainingSet.rootMeanSquareTarget, 1e-12)

        let configuration = NetworkConfiguration(cell: .lstm, inputSize: featureCount, hiddenSize: options.hiddenSize, layers: 1, outputSize: 1)
        var trainingOptions = TrainingOptions()
        trainingOptions.epochs = max(1, min(options.epochsPerCheck, options.epochs))
        trainingOptions.batchSize = 64
        trainingOptions.learningRate = options.learningRate
        trainingOptions.clipNorm = 1.0
        trainingOptions.seed = options.seed
        trainingOptions.progress = false
        let debug = ProcessInfo.processInfo.environment["RNNODE_EIGEN_DEBUG"] != nil

        // Model selection in closed loop: MSE on the correction is only a proxy, so after every `epochsPerCheck`
        // epochs the network runs as an iteration on the validation matrices and the best weights are kept, over
        // `candidates` networks started from different initial weights (one bad start is common).
        var best: (score: Double, checkpoint: Checkpoint)? = nil
        var history: [EpochRecord] = []
        let validationData = validationSet.dataset(scale: scale)
        for candidate in 0..<max(options.candidates, 1) {
            let networkSeed = options.seed &+ UInt64(candidate) &* 0x9E37_79B9_7F4A_7C15
            let model = LearnedIteration(network: RecurrentNetwork(configuration: configuration, seed: networkSeed), options: options, targetScale: scale)
            var candidateSet = trainingSet
            var candidateStarts = SplitMix64(seed: networkSeed ^ 0x444147)
            for round in 0..<max(options.rounds, 1) {
                if round > 0 {
                    for matrix in training { candidateSet.addClosedLoop(matrix, model: model, start: randomUnitVector(options.dimension, &candidateStarts)) }
                }
                let data = candidateSet.dataset(scale: scale)
                var done = 0
                while done < options.epochs {
                    trainingOptions.seed = networkSeed &+ UInt64(round * 1000 + done)
                    let trainer = Trainer(network: model.network, options: trainingOptions)
                    let fit = try trainer.fit(training: data, validation: validationData)
                    history += fit.records
                    done += trainingOptions.epochs
                    let score = model.closedLoopScore(validation, seed: options.seed)
                    if debug { FileHandle.standardError.write(Data("candidate \(candidate) round \(round) epochs \(done): closed-loop score \(score)\n".utf8)) }
                    if best == nil || score < best!.score { best = (score, model.network.checkpoint()) }
                    if fit.interrupted { throw EigenExperimentError("training of the learned iteration interrupted; no model cached") }
                }
            }
        }
        let selected = LearnedIteration(network: try RecurrentNetwork(checkpoint: best!.checkpoint), options: options, targetScale: scale)
        selected.history = history
        selected.validationScore = best!.score
        selected.trainingSeconds = (ContinuousClock.now - clock).seconds
        return selected
    }

    /// Mean over `matrices` of the products the learned iteration needs from a random start to bring the residual
    /// ‖Mx − ρx‖ below 1e-8, a failure (budget `closedLoopBudget` spent, or a non-finite iterate) counting twice the
    /// budget: lower is better. This is what the model is selected on, since a low MSE on the correction alone
    /// does not make a convergent iteration.
    func closedLoopScore(_ matrices: [TrainingMatrix], seed: UInt64) -> Double {
        var generator = SplitMix64(seed: seed ^ 0x56414C4944)
        var settings = IterationSettings()
        settings.tolerance = 1e-8
        settings.maximumProducts = options.closedLoopBudget
        var total = 0.0
        for matrix in matrices {
            let start = randomUnitVector(matrix.target.count, &generator)
            let outcome = run(matrix.operator_, start: start, settings: settings, probe: nil, angleTarget: 0)
            total += outcome.converged ? Double(outcome.products) : 2 * Double(options.closedLoopBudget)
        }
        return total / Double(max(matrices.count, 1))
    }

    /// Writes the five features of every coordinate into `input` (n, 5):
    /// [√n x_i, √n (Mx)_i, ρ, √n r_i/‖r‖, ln(‖r_k‖/‖r_{k−1}‖)] with r = Mx − ρx, x of unit length.
    static func features(x: UnsafeBufferPointer<Double>, y: UnsafeBufferPointer<Double>, rho: Double, residualNorm: Double,
                         previousResidualNorm: Double?, into input: UnsafeMutableBufferPointer<Double>) {
        let n = x.count, root = Double(n).squareRoot()
        let ratio = previousResidualNorm.map { max(min(log(residualNorm / $0), 5), -5) } ?? 0
        for i in 0..<n {
            input[5 * i] = root * x[i]
            input[5 * i + 1] = root * y[i]
            input[5 * i + 2] = rho
            input[5 * i + 3] = root * (y[i] - rho * x[i]) / residualNorm
            input[5 * i + 4] = ratio.isFinite ? ratio : 0
        }
    }

    /// Runs the learned iteration on M: x_{k+1} = (x_k + ‖r_k‖ Δ_k/√n) / ‖…‖ with Δ_k the network's output per coordinate.
    public func run(_ operator: ScaledOperator, start: [Double], settings: IterationSettings, probe: EigenspaceProbe?,
                    angleTarget: Double) -> IterationOutcome {
        let n = `operator`.dimension
        var state = network.makeState(batch: n)
        var input = [Double](repeating: 0, count: n * Self.featureCount)
        var previous: Double? = nil
        let scale = targetScale
        return iterate(`operator`, start: normalised(start), settings: settings, probe: probe, angleTarget: angleTarget) { x, y, rho, _, next in
            // ‖x‖ = 1 here, so ‖Mx − ρx‖/‖x‖ is ‖r‖.
            var residualSquared = 0.0
            for i in 0..<n { residualSquared += (y[i] - rho * x[i]) * (y[i] - rho * x[i]) }
            let residualNorm = residualSquared.squareRoot()
            guard residualNorm > 0 else { for i in 0..<n { next[i] = x[i] }; return }
            input.withUnsafeMutableBufferPointer {
                Self.features(x: UnsafeBufferPointer(x), y: y, rho: rho, residualNorm: residualNorm, previousResidualNorm: previous, into: $0)
            }
            previous = residualNorm
            let output = network.step(input, state: &state)
            let factor = residualNorm * scale / Double(n).squareRoot()
            var lengthSquared = 0.0
            for i in 0..<n { next[i] = x[i] + factor * output[i]; lengthSquared += next[i] * next[i] }
            let inverse = 1 / lengthSquared.squareRoot()
            for i in 0..<n { next[i] *= inverse }
        }
    }
}

/// A training matrix scaled as the iterations see it, with the eigenvector the iteration should reach.
struct TrainingMatrix {
    let operator_: ScaledOperator
    let target: [Double]

    init(_ entries: [Double], dimension n: Int) throws {
        operator_ = ScaledOperator(SparseSymmetricMatrix(entries: entries, dimension: n), largest: true)
        let decomposition = try symmetricEigen(entries, dimension: n)
        target = decomposition.vectors[n - 1]
    }
}

/// Per-coordinate sequences: inputs (sequence, step, 5), targets (sequence, step, 1) = √n (v_i − x_i)/‖r‖ with v
/// the wanted eigenvector signed toward x.
struct EigenSequenceBuilder {
    let unroll: Int
    var inputs: [Double] = []
    var targets: [Double] = []
    var count = 0

    init(unroll: Int) { self.unroll = unroll }

    var rootMeanSquareTarget: Double {
        targets.isEmpty ? 1 : (targets.reduce(0) { $0 + $1 * $1 } / Double(targets.count)).squareRoot()
    }

    func dataset(scale: Double) -> SequenceDataset {
        SequenceDataset(count: count, steps: unroll, inputSize: LearnedIteration.featureCount, outputSize: 1,
                        inputs: inputs, targets: targets.map { $0 / scale })
    }

    /// Follows `next` for `unroll` steps from `start`, recording features and targets; drops the trajectory
    /// if it reaches the eigenvector (residual below 1e-13) or leaves the finite numbers.
    mutating func addTrajectory(_ matrix: TrainingMatrix, start: [Double],
                                next: (_ x: [Double], _ y: [Double], _ rho: Double, _ features: [Double]) -> [Double]) {
        let n = matrix.target.count, root = Double(n).squareRoot()
        var x = normalised(start)
        var stepInputs = [[Double]](), stepTargets = [[Double]]()
        var previous: Double? = nil
        for _ in 0..<unroll {
            let y = matrix.operator_.matrixApply(x)
            let rho = dot(x, y)
            let residualNorm = zip(y, x).reduce(0) { $0 + ($1.0 - rho * $1.1) * ($1.0 - rho * $1.1) }.squareRoot()
            guard residualNorm > 1e-13, residualNorm.isFinite else { return }
            var features = [Double](repeating: 0, count: n * LearnedIteration.featureCount)
            x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer { yb in features.withUnsafeMutableBufferPointer {
                LearnedIteration.features(x: xb, y: yb, rho: rho, residualNorm: residualNorm, previousResidualNorm: previous, into: $0)
            } } }
            previous = residualNorm
            let sign: Double = dot(matrix.target, x) >= 0 ? 1 : -1
            stepInputs.append(features)
            stepTargets.append((0..<n).map { root * (sign * matrix.target[$0] - x[$0]) / residualNorm })
            x = next(x, y, rho, features)
            guard x.allSatisfy(\.isFinite) else { return }
        }
        // Coordinate i of this trajectory is one sequence.
        for i in 0..<n {
            for k in 0..<unroll {
                inputs.append(contentsOf: stepInputs[k][(5 * i)..<(5 * i + 5)])
                targets.append(stepTargets[k][i])
            }
        }
        count += n
    }

    /// The normalised discrete Yi iteration x ← (x + h(Mx − ρx))/‖…‖ as teacher.
    mutating func addTeacher(_ matrix: TrainingMatrix, start: [Double], step h: Double) {
        addTrajectory(matrix, start: start) { x, y, rho, _ in normalised((0..<x.count).map { x[$0] + h * (y[$0] - rho * x[$0]) }) }
    }

    /// The network's own closed loop (its hidden state carried along the trajectory).
    mutating func addClosedLoop(_ matrix: TrainingMatrix, model: LearnedIteration, start: [Double]) {
        let n = matrix.target.count
        var state = model.network.makeState(batch: n)
        addTrajectory(matrix, start: start) { x, y, rho, features in
            let output = model.network.step(features, state: &state)
            let residualNorm = zip(y, x).reduce(0) { $0 + ($1.0 - rho * $1.1) * ($1.0 - rho * $1.1) }.squareRoot()
            let factor = residualNorm * model.targetScale / Double(n).squareRoot()
            return normalised((0..<n).map { x[$0] + factor * output[$0] })
        }
    }
}

extension ScaledOperator {
    /// y = M x for arrays (training data; not a hot loop).
    func matrixApply(_ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { apply(xp.baseAddress!, into: $0.baseAddress!) } }
        return y
    }
}

/// A unit vector with standard normal components.
func randomUnitVector(_ n: Int, _ generator: inout SplitMix64) -> [Double] {
    normalised((0..<n).map { _ in generator.nextNormal() })
}


