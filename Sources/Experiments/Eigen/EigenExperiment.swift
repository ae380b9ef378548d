// The eigen experiment as data and one function: a configuration (methods, which eigenpairs, tolerances, seed)
// applied to one matrix gives rows checked against GSL. `rnnode eigen` and `rnnode compare` both call it.
import Foundation
import Problems
import Recurrent
import Reference
import Support

/// The methods; raw values are the CLI and CSV spelling.
public enum EigenMethod: String, CaseIterable, Codable, Sendable {
    /// The continuous Yi–Fu–Tang flow, integrated by GSL.
    case yi
    /// Its discrete recurrent form x_{k+1} = x_k + h(−x_k + f(x_k)).
    case yiDiscrete = "yi-discrete"
    /// Power iteration with the shift M + I.
    case power
    /// Momentum power iteration with the oracle momentum β = λ₂²/4 (λ₂ from GSL's spectrum: an oracle).
    case momentumOracle = "momentum-oracle"
    /// Lanczos with full re-orthogonalisation (the Krylov floor).
    case lanczos
    /// The size- and scale-free learned momentum iteration.
    case learned
    /// The learned LSTM iteration (per-coordinate, trained on one random-symmetric family).
    case lstm
}

/// Which eigenpairs: `largest`, `smallest`, `extremes` (both), `all`, or the K lowest.
public enum EigenSelection: Codable, Hashable, Sendable, CustomStringConvertible {
    case largest, smallest, extremes, all
    case lowest(Int)

    /// Parses `largest|smallest|extremes|all|K` (K ≥ 1).
    public init?(argument: String) {
        switch argument {
        case "largest": self = .largest
        case "smallest": self = .smallest
        case "extremes": self = .extremes
        case "all": self = .all
        default:
            guard let k = Int(argument), k >= 1 else { return nil }
            self = .lowest(k)
        }
    }

    public var description: String {
        switch self {
        case .largest: "largest"
        case .smallest: "smallest"
        case .extremes: "extremes"
        case .all: "all"
        case .lowest(let k): "\(k)"
        }
    }

    /// Deflation chains: the sign of the search (largest of A or of −A) and the ascending indices found in order.
    func chains(dimension n: Int) -> [(largest: Bool, indices: [Int])] {
        switch self {
        case .largest: [(true, [n - 1])]
        case .smallest: [(false, [0])]
        case .extremes: n == 1 ? [(false, [0])] : [(false, [0]), (true, [n - 1])]
        case .all: [(false, Array(0..<n))]
        case .lowest(let k): [(false, Array(0..<min(k, n)))]
        }
    }
}

/// Everything that decides the numbers of one eigen run (the matrix aside).
public struct EigenConfiguration: Codable, Hashable, Sendable {
    public var methods: [EigenMethod] = EigenMethod.allCases
    public var selection: EigenSelection = .extremes
    /// Stopping test for every method: ‖Mx − ρx‖/‖x‖ (the flow: ‖dx/dt‖/‖x‖) below this, M scaled to [−1, 1].
    public var tolerance = 1e-10
    /// Seed of the start vectors (and of the learned model's training).
    public var seed: UInt64 = 0
    /// Step h of the discrete Yi iteration (in the scaled time of M).
    public var step = 0.5
    /// Angle (radians) at which "products to reach the angle" is counted.
    public var angleTarget = 1e-6
    /// Product budget of yi-discrete and power for one eigenpair.
    public var maximumProducts = 2_000_000
    /// Product budget of the LSTM iteration for one eigenpair.
    public var learnedBudget = 2000
    /// Product budgets for single eigenpairs (index → budget) that replace `maximumProducts` (e.g. to force a failure).
    public var budgetOverrides: [Int: Int] = [:]
    /// GSL integration of the flow (its `tolerance` is replaced by `tolerance` above).
    public var flow = YiFlowSettings()
    public var learned = LearnedIterationOptions()
    public var learnedMomentum = LearnedMomentumOptions()
    public init() {}
}

/// One found eigenpair compared with GSL: one row of `<matrix>-eigen.csv` (plus the extra counters of errors.csv).
public struct EigenRow: Sendable, Equatable {
    /// Position in GSL's ascending order (0-based), also the k of the exact formula.
    public var index: Int
    public var method: EigenMethod
    /// Rayleigh quotient xᵀAx/xᵀx of the vector found.
    public var eigenvalue: Double
    public var gslEigenvalue: Double
    public var exactEigenvalue: Double?
    public var absoluteError: Double
    /// |λ − λ_GSL| / |λ_GSL| (divided by the Gershgorin half-width instead when λ_GSL = 0).
    public var relativeError: Double
    /// Angle (radians) between the vector and GSL's eigenspace of λ_GSL (one vector unless degenerate).
    public var vectorAngle: Double
    /// Products with A.
    public var iterations: Int
    public var seconds: Double
    public var converged: Bool
    /// Iterations, or accepted GSL steps of the flow.
    public var steps: Int
    public var flowTime: Double?
    public var productsToAngle: Int?
    /// ‖x‖ at the end (the flow keeps ‖x(0)‖ = 1; the discrete Yi form lets it grow).
    public var finalNorm: Double
    public var failure: String?
    /// The unit eigenvector found.
    public var vector: [Double]
}

/// A convergence history of one method for one eigenpair.
public struct ConvergenceHistory: Sendable {
    public var method: EigenMethod
    public var index: Int
    public var points: [ConvergencePoint]
}

/// Everything one run produced.
public struct EigenReport: Sendable {
    public var matrixName: String
    public var matrixTitle: String
    public var dimension: Int
    public var configuration: EigenConfiguration
    public var rows: [EigenRow]
    public var histories: [ConvergenceHistory]
    public var gsl: SymmetricEigenDecomposition
    public var gslSeconds: Double
    /// Gershgorin interval [lower, upper] used for the scaling.
    public var gershgorin: ClosedRange<Double>
    /// What the rows are compared with: "GSL" (dense symmetric solver) or "exact" (analytic eigenpairs).
    public var referenceName = "GSL"
    /// The learned momentum model: training seconds (0 when cached), whether cached, training loss.
    public var momentumTrainingSeconds: Double?
    public var momentumFromCache: Bool?
    public var momentumTrainingLoss: Double?
    /// The learned model: training seconds (0 when cached), whether cached, its checkpoint file.
    public var learnedTrainingSeconds: Double?
    public var learnedFromCache: Bool?
    /// Closed-loop validation score of the learned model when it was trained in this run.
    public var learnedValidationScore: Double?
    public var learnedCheckpoint: URL?
}

public struct EigenExperimentError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The eigenspace (orthonormal GSL vectors) of every eigenvalue within `gap` of values[index] (chained).
func eigenspace(of index: Int, in decomposition: SymmetricEigenDecomposition, gap: Double) -> EigenspaceProbe {
    let values = decomposition.values
    var low = index, high = index
    while low > 0 && values[low] - values[low - 1] <= gap { low -= 1 }
    while high + 1 < values.count && values[high + 1] - values[high] <= gap { high += 1 }
    return EigenspaceProbe(basis: Array(decomposition.vectors[low...high]))
}

/// The start vector of eigenpair `index` in a chain: standard normal components from (seed, side, index).
func startVector(dimension n: Int, seed: UInt64, largest: Bool, index: Int) -> [Double] {
    var generator = SplitMix64(seed: seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(index) &* 2 &+ (largest ? 1 : 0))
    return randomUnitVector(n, &generator)
}

/// The reference an eigen run is checked against: ascending eigenvalues, the eigenspace probe of an index, the exact
/// formula where there is one.
struct EigenReference {
    var name: String
    var decomposition: SymmetricEigenDecomposition
    var seconds: Double
    var probe: (_ index: Int, _ gap: Double) -> EigenspaceProbe
    var exact: (_ index: Int) -> Double?
}

/// Runs every configured method on `matrix` and compares each eigenpair with GSL.
/// `modelDirectory` caches the learned models (DIR/models); nil trains in memory only.
public func runEigenExperiment(_ matrix: MatrixProblem, configuration: EigenConfiguration,
                               modelDirectory: URL?) throws -> EigenReport {
    let n = matrix.dimension
    let gslClock = ContinuousClock.now
    let gsl = try symmetricEigen(matrix.entries, dimension: n)
    let gslSeconds = (ContinuousClock.now - gslClock).seconds
    let reference = EigenReference(name: "GSL", decomposition: gsl, seconds: gslSeconds,
                                   probe: { eigenspace(of: $0, in: gsl, gap: $1) }, exact: { matrix.exactEigenvalue($0) })
    return try runEigenExperiment(name: matrix.name, title: matrix.title, sparse: SparseSymmetricMatrix(matrix),
                                  reference: reference, configuration: configuration, modelDirectory: modelDirectory)
}

/// Runs every configured method on a generated sparse matrix, compared with its exact eigenpairs.
public func runEigenExperiment(_ generated: GeneratedMatrix, configuration: EigenConfiguration,
                               modelDirectory: URL?) throws -> EigenReport {
    let spectrum = generated.spectrum()
    let values = spectrum.map(\.value)
    let reference = EigenReference(
        name: "exact", decomposition: SymmetricEigenDecomposition(values: values, vectors: []), seconds: 0,
        probe: { index, gap in
            var low = index, high = index
            while low > 0 && values[low] - values[low - 1] <= gap { low -= 1 }
            while high + 1 < values.count && values[high + 1] - values[high] <= gap { high += 1 }
            // Exactly degenerate pairs (p, q), (q, p) differ by rounding only; their orthonormal sine vectors span it.
            return EigenspaceProbe(basis: (low...high).map { generated.eigenvector(p: spectrum[$0].p, q: spectrum[$0].q) })
        },
        exact: { values[$0] })
    return try runEigenExperiment(name: generated.name, title: generated.title, sparse: generated.matrix(),
                                  reference: reference, configuration: configuration, modelDirectory: modelDirectory)
}

/// The scaled eigenvalue μ₂ that decides the convergence of the search for `index` in a chain: the largest scaled
/// eigenvalue σ(λ − c)/s among the pairs not yet found and outside the wanted cluster (−1, the bottom, if none).
func oracleSecondEigenvalue(index: Int, found: Set<Int>, values: [Double], gap: Double, scaled: ScaledOperator) -> Double {
    var low = index, high = index
    while low > 0 && values[low] - values[low - 1] <= gap { low -= 1 }
    while high + 1 < values.count && values[high + 1] - values[high] <= gap { high += 1 }
    var best = -1.0
    for j in values.indices where (j < low || j > high) && !found.contains(j) {
        best = max(best, scaled.sign * (values[j] - scaled.center) / scaled.scale)
    }
    return min(best, 1)
}

func runEigenExperiment(name: String, title: String, sparse: SparseSymmetricMatrix, reference: EigenReference,
                        configuration: EigenConfiguration, modelDirectory: URL?) throws -> EigenReport {
    let n = sparse.dimension
    let gsl = reference.decomposition
    let halfWidth = max(0.5 * (sparse.upper - sparse.lower), 1e-300)
    let clusterGap = 1e-9 * halfWidth

    var learned: LearnedIteration? = nil
    if configuration.methods.contains(.lstm) {
        learned = try LearnedIteration.loadOrTrain(options: configuration.learned, directory: modelDirectory)
    }
    var momentumModel: LearnedMomentum? = nil
    if configuration.methods.contains(.learned) {
        momentumModel = try LearnedMomentum.loadOrTrain(options: configuration.learnedMomentum, directory: modelDirectory)
    }
    var flow = configuration.flow
    flow.tolerance = configuration.tolerance
    var baseIteration = IterationSettings()
    baseIteration.tolerance = configuration.tolerance
    baseIteration.maximumProducts = configuration.maximumProducts

    var rows: [EigenRow] = []
    var histories: [ConvergenceHistory] = []
    for method in configuration.methods {
        for chain in configuration.selection.chains(dimension: n) {
            let scaled = ScaledOperator(sparse, largest: chain.largest)
            var found = Set<Int>()
            for index in chain.indices {
                var iteration = baseIteration
                if let cap = configuration.budgetOverrides[index] { iteration.maximumProducts = cap }
                var learnedIteration = iteration
                learnedIteration.maximumProducts = configuration.budgetOverrides[index] ?? configuration.learnedBudget
                var start = startVector(dimension: n, seed: configuration.seed, largest: chain.largest, index: index)
                scaled.orthogonalise(&start)
                start = normalised(start)
                let probe = reference.probe(index, clusterGap)
                let clock = ContinuousClock.now
                var outcome: IterationOutcome
                switch method {
                case .yi:
                    var settings = flow
                    if let cap = configuration.budgetOverrides[index] { settings.maximumProducts = cap }
                    outcome = runYiFlow(scaled, start: start, settings: settings, probe: probe, angleTarget: configuration.angleTarget)
                case .yiDiscrete:
                    outcome = runDiscreteYi(scaled, start: start, step: configuration.step, settings: iteration,
                                            probe: probe, angleTarget: configuration.angleTarget)
                case .power:
                    outcome = runPowerIteration(scaled, start: start, settings: iteration, probe: probe, angleTarget: configuration.angleTarget)
                case .momentumOracle:
                    let second = oracleSecondEigenvalue(index: index, found: found, values: gsl.values, gap: clusterGap, scaled: scaled)
                    outcome = runMomentumIteration(scaled, start: start, secondEigenvalue: second, settings: iteration,
                                                   probe: probe, angleTarget: configuration.angleTarget)
                case .lanczos:
                    outcome = runLanczos(scaled, start: start, settings: iteration, probe: probe, angleTarget: configuration.angleTarget)
                case .learned:
                    outcome = momentumModel!.run(scaled, start: start, settings: iteration, probe: probe, angleTarget: configuration.angleTarget)
                case .lstm:
                    outcome = learned!.run(scaled, start: start, settings: learnedIteration, probe: probe, angleTarget: configuration.angleTarget)
                }
                let seconds = (ContinuousClock.now - clock).seconds
                let finalNorm = norm(outcome.vector)
                // The row reports the method's own vector (re-orthogonalised against the vectors already found).
                var vector = outcome.vector.allSatisfy(\.isFinite) ? outcome.vector : start
                scaled.orthogonalise(&vector)
                vector = normalised(vector)
                if !vector.allSatisfy(\.isFinite) { vector = start }
                let lambda = sparse.rayleighQuotient(vector)
                // Deflation that survives a failure: a pair that did not converge is not deflated with its own
                // vector (a mixture of eigenvectors would be moved to the bottom and corrupt the later pairs); the
                // pair is found for the deflation by Lanczos from that vector (its products are not counted).
                var deflationVector = vector
                if !outcome.converged {
                    var recovery = baseIteration
                    recovery.maximumProducts = max(baseIteration.maximumProducts, 10 * n)
                    let repaired = runLanczos(scaled, start: vector, settings: recovery, probe: nil, angleTarget: 0)
                    var candidate = repaired.vector
                    scaled.orthogonalise(&candidate)
                    candidate = normalised(candidate)
                    if candidate.allSatisfy(\.isFinite) { deflationVector = candidate }
                    outcome.failure = (outcome.failure ?? "not converged")
                        + "; deflated with a Lanczos vector (\(repaired.products) products, not counted\(repaired.converged ? "" : ", not converged either"))"
                }
                let deflationLambda = sparse.rayleighQuotient(deflationVector)
                scaled.deflate(deflationVector, scaledEigenvalue: scaled.sign * (deflationLambda - scaled.center) / scaled.scale)
                found.insert(index)

                let referenceValue = gsl.values[index]
                let absoluteError = abs(lambda - referenceValue)
                rows.append(EigenRow(
                    index: index, method: method, eigenvalue: lambda, gslEigenvalue: referenceValue,
                    exactEigenvalue: reference.exact(index), absoluteError: absoluteError,
                    relativeError: absoluteError / (referenceValue != 0 ? abs(referenceValue) : halfWidth),
                    vectorAngle: probe.angle(vector), iterations: outcome.products, seconds: seconds,
                    converged: outcome.converged, steps: outcome.steps, flowTime: outcome.flowTime,
                    productsToAngle: outcome.productsToAngle, finalNorm: finalNorm, failure: outcome.failure, vector: vector))
                histories.append(ConvergenceHistory(method: method, index: index, points: outcome.history))
            }
        }
    }
    rows.sort { ($0.method.order, $0.index) < ($1.method.order, $1.index) }
    var report = EigenReport(matrixName: name, matrixTitle: title, dimension: n, configuration: configuration,
                             rows: rows, histories: histories, gsl: gsl, gslSeconds: reference.seconds,
                             gershgorin: sparse.lower...sparse.upper,
                             learnedTrainingSeconds: learned?.trainingSeconds, learnedFromCache: learned?.loadedFromCache, learnedValidationScore: learned?.validationScore,
                             learnedCheckpoint: learned != nil ? modelDirectory.map { LearnedIteration.checkpointURL(in: $0, options: configuration.learned) } : nil)
    report.referenceName = reference.name
    report.momentumTrainingSeconds = momentumModel?.trainingSeconds
    report.momentumFromCache = momentumModel?.loadedFromCache
    report.momentumTrainingLoss = momentumModel?.trainingLoss
    return report
}

extension EigenMethod {
    var order: Int { Self.allCases.firstIndex(of: self)! }
}

extension EigenConfiguration {
    /// This configuration for `matrix`: the learned model trains on the matrix's own family when it has one
    /// (a random-symmetric file), otherwise on the default family (12 × 12 uniform).
    public func adapted(to matrix: MatrixProblem) -> EigenConfiguration {
        var configuration = self
        if let family = matrix.family {
            configuration.learned.dimension = family.dimension
            configuration.learned.distribution = family.distribution
        }
        return configuration
    }

    /// A stable hash (FNV-1a of the sorted-key JSON), e.g. to recognise results already computed.
    public var fingerprint: String {
        let encoder = JSONEncoder(); encoder.outputFormatting = .sortedKeys
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (try? encoder.encode(self)) ?? Data() { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}

/// The whole eigen pipeline for one matrix, as `rnnode eigen` runs it: load (catalog name, .toml or .mtx), adapt
/// the configuration to the matrix, run every method against GSL, write DIR/<matrix>-eigen.csv, append to
/// DIR/errors.csv, write the convergence plot and manifest; the learned model is cached in DIR/models.
/// Throws `ProblemError` for a bad matrix file (before anything is written).
public func runEigenPipeline(matrix nameOrPath: String, configuration: EigenConfiguration, outputDirectory: URL,
                             command: String) throws -> (report: EigenReport, files: [URL], plot: Gnuplot.Outcome) {
    let models = outputDirectory.appendingPathComponent("models", isDirectory: true)
    let report: EigenReport
    if let generated = GeneratedMatrix(name: nameOrPath) {
        report = try runEigenExperiment(generated, configuration: configuration, modelDirectory: models)
    } else {
        let matrix = try MatrixCatalog.load(nameOrPath)
        report = try runEigenExperiment(matrix, configuration: configuration.adapted(to: matrix), modelDirectory: models)
    }
    let (files, plot) = try EigenOutput.write(report, to: outputDirectory, command: command)
    return (report, files, plot)
}
