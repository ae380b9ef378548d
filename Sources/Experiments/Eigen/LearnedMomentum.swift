// The size- and scale-free learned iteration: a small recurrent network that sees only scale-free quantities of the
// iteration (Rayleigh quotient, Ritz values of the last iterates, residual norms) and sets the coefficients (β, γ) of
//   x_{k+1} ∝ (M + I) x_k + γ_k x_k − β_k x_{k−1}
// on M = A shifted and scaled to [−1, 1] (Gershgorin). Trained through the unrolled iteration on a broad family,
// seeded, cached as JSON; a safeguard falls back to power iteration when it stops making progress.
import Foundation
import Problems
import Support

/// How the learned momentum iteration is trained; the fingerprint names the cached parameters.
public struct LearnedMomentumOptions: Codable, Hashable, Sendable {
    public var hiddenSize = 6
    /// Training family: this many matrices, sizes 8–256 (dense with prescribed spectra, sparse tridiagonal and
    /// 2-D Laplacians), second eigenvalue gaps log-uniform in [1e-3, 0.3] of the scaled range, clustered spectra.
    public var trainingMatrices = 24
    /// Products of the unrolled iteration per training matrix (the loss is log10 of the final residual).
    public var unroll = 160
    /// Evolution-strategy generations and antithetic pairs per generation, perturbation size, step size.
    public var generations = 24
    public var pairs = 8
    public var sigma = 0.1
    public var learningRate = 0.05
    public var seed: UInt64 = 0
    public init() {}

    public var fingerprint: String {
        let encoder = JSONEncoder(); encoder.outputFormatting = .sortedKeys
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (try? encoder.encode(self)) ?? Data() { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }

    /// The training family in words (written to the manifest).
    public var familyDescription: String {
        "\(trainingMatrices) matrices from seed \(seed): dense n ∈ {8,16,32,64} QDQᵀ with gap δ log-uniform [1e-3, 0.3] and a cluster below λ₂; "
            + "sparse tridiagonal n ∈ {32..256} (2, −1, random potential); 2-D Laplacian grids 3..16; unroll \(unroll) products, "
            + "ES \(generations) generations × \(pairs) antithetic pairs"
    }
}

/// The network: h_{k+1} = tanh(W [f_k; h_k] + b), w_k = sigmoid(vᵀh_{k+1} + c) ∈ (0, 1), and
/// t_k = θ + w_k (ρ_k − θ) an estimate of the second eigenvalue of M (θ: the largest second Ritz value seen, ≤ λ₂(M)
/// by interlacing), mapped to (β, γ) by `momentumCoefficients` (momentum with [−1, t] mapped to [−1, 1]).
/// t = −1 gives (β, γ) = (0, 0): power iteration.
public struct LearnedMomentumNetwork: Codable, Sendable, Equatable {
    public static let featureCount = 5
    public var hiddenSize: Int
    /// Row-major W (hidden, features + hidden), then b (hidden), v (hidden), c.
    public var parameters: [Double]

    public init(hiddenSize: Int, seed: UInt64) {
        self.hiddenSize = hiddenSize
        var generator = SplitMix64(seed: seed ^ 0x4C45_4152_4E)
        let inputs = Self.featureCount + hiddenSize
        var p = (0..<(hiddenSize * inputs)).map { _ in 0.3 * generator.nextNormal() / Double(inputs).squareRoot() }
        p += [Double](repeating: 0, count: hiddenSize)
        p += (0..<hiddenSize).map { _ in 0.3 * generator.nextNormal() }
        p.append(-3)  // start near w = 0.05: mostly the conservative Ritz estimate
        parameters = p
    }

    /// One step: features → w, hidden state updated in place.
    func step(_ features: [Double], hidden: inout [Double]) -> Double {
        let h = hiddenSize, inputs = Self.featureCount + h
        var next = [Double](repeating: 0, count: h)
        for i in 0..<h {
            var sum = parameters[h * inputs + i]
            for j in 0..<Self.featureCount { sum += parameters[i * inputs + j] * features[j] }
            for j in 0..<h { sum += parameters[i * inputs + Self.featureCount + j] * hidden[j] }
            next[i] = tanh(sum)
        }
        hidden = next
        var out = parameters[parameters.count - 1]
        for i in 0..<h { out += parameters[h * inputs + h + i] * next[i] }
        return 1 / (1 + exp(-out))
    }
}

/// What the policy sees at step k (all scale-free: M's spectrum lies in [−1, 1]).
struct MomentumObservation {
    var rho: Double
    /// The largest second Ritz value of span{x_{k−2}, x_{k−1}, x_k} seen so far (−1 before one is reliable).
    var ritzSecond: Double
    var residual: Double
    var previousResidual: Double?
}

/// A policy maps an observation to (β, γ).
typealias MomentumPolicy = (MomentumObservation) -> (beta: Double, gamma: Double)

/// Rayleigh–Ritz on span{x_k, x_k − x_{k−1}, x_{k−1} − x_{k−2}} (differences keep the small directions accurate),
/// M images carried along linearly: the second largest Ritz value, nil when the span is numerically too thin.
func secondRitzValue(xs: [[Double]], ys: [[Double]]) -> Double? {
    guard xs.count == 3 else { return nil }
    let n = xs[0].count
    var q: [[Double]] = [], mq: [[Double]] = []
    let candidates: [([Double], [Double])] = [
        (xs[2], ys[2]),
        ((0..<n).map { xs[2][$0] - xs[1][$0] }, (0..<n).map { ys[2][$0] - ys[1][$0] }),
        ((0..<n).map { xs[1][$0] - xs[0][$0] }, (0..<n).map { ys[1][$0] - ys[0][$0] }),
    ]
    for (vector, image) in candidates {
        var u = vector, mu = image
        let original = norm(u)
        for _ in 0..<2 {
            for (qj, mqj) in zip(q, mq) {
                let c = dot(qj, u)
                for i in 0..<n { u[i] -= c * qj[i]; mu[i] -= c * mqj[i] }
            }
        }
        let length = norm(u)
        guard length > 1e-7 * max(original, 1e-300), length > 1e-9 else { return nil }
        q.append(u.map { $0 / length }); mq.append(mu.map { $0 / length })
    }
    var h = [[Double]](repeating: [0, 0, 0], count: 3)
    for i in 0..<3 { for j in 0..<3 { h[i][j] = dot(q[i], mq[j]) } }
    for i in 0..<3 { for j in 0..<i { let s = 0.5 * (h[i][j] + h[j][i]); h[i][j] = s; h[j][i] = s } }
    // Cyclic Jacobi on the 3 × 3 symmetric matrix.
    for _ in 0..<30 {
        var off = 0.0
        for i in 0..<3 { for j in 0..<3 where i != j { off += h[i][j] * h[i][j] } }
        if off < 1e-30 { break }
        for p in 0..<2 { for r in (p + 1)..<3 where h[p][r] != 0 {
            let theta = (h[r][r] - h[p][p]) / (2 * h[p][r])
            let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
            let c = 1 / (t * t + 1).squareRoot(), s = t * c
            for k in 0..<3 {
                let hkp = h[k][p], hkr = h[k][r]
                h[k][p] = c * hkp - s * hkr; h[k][r] = s * hkp + c * hkr
            }
            for k in 0..<3 {
                let hpk = h[p][k], hrk = h[r][k]
                h[p][k] = c * hpk - s * hrk; h[r][k] = s * hpk + c * hrk
            }
        } }
    }
    let values = [h[0][0], h[1][1], h[2][2]].sorted()
    return values[1].isFinite ? values[1] : nil
}

/// The result of one learned run: the outcome plus whether the safeguard fell back to power iteration.
struct LearnedMomentumOutcome {
    var outcome: IterationOutcome
    var fellBack: Bool
}

/// Runs x_{k+1} ∝ (M + I) x_k + γ_k x_k − β_k x_{k−1} with (β_k, γ_k) from `policy`.
/// Safeguard: when the residual has not reached a new minimum for max(200, k/2) iterations, or exceeds 10⁴ × its
/// minimum, it restarts from the best iterate as plain power iteration (β = γ = 0) for the rest of the run; so it
/// costs at most that window (plus what it spent before) over power iteration from the best iterate.
/// `policy` nil with `safeguard` false and (β, γ) ≡ (0, 0) is power iteration, operation for operation.
func runMomentumPolicy(_ operator: ScaledOperator, start: [Double], settings: IterationSettings, probe: EigenspaceProbe?,
                       angleTarget: Double, safeguard: Bool = true, policy: @escaping MomentumPolicy) -> LearnedMomentumOutcome {
    let n = `operator`.dimension
    var previous = [Double](repeating: 0, count: n)
    var xs: [[Double]] = [], ys: [[Double]] = []
    var ritz = -1.0
    var lastResidual: Double? = nil
    var best = Double.infinity, bestStep = 0, bestVector = start, step = 0
    var fellBack = false
    let outcome = previous.withUnsafeMutableBufferPointer { previous in
        iterate(`operator`, start: start, settings: settings, probe: probe, angleTarget: angleTarget) { x, y, rho, residual, next in
            step += 1
            if fellBack {
                momentumStep(x: x, y: y, previous: previous, beta: 0, gamma: 0, next: next); return
            }
            if safeguard {
                if residual < best { best = residual; bestStep = step; bestVector = Array(x) }
                if residual > 1e4 * best || step - bestStep > max(200, step / 2) {
                    fellBack = true
                    for i in 0..<n { x[i] = bestVector[i] }
                    let image = `operator`.matrixApply(bestVector)
                    image.withUnsafeBufferPointer { momentumStep(x: x, y: $0, previous: previous, beta: 0, gamma: 0, next: next) }
                    return
                }
                xs.append(Array(x)); ys.append(Array(y))
                if xs.count > 3 { xs.removeFirst(); ys.removeFirst() }
                if let value = secondRitzValue(xs: xs, ys: ys), value < rho - 1e-6 * (1 + abs(rho)) { ritz = max(ritz, value) }
            }
            let (beta, gamma) = policy(MomentumObservation(rho: rho, ritzSecond: ritz, residual: residual, previousResidual: lastResidual))
            lastResidual = residual
            momentumStep(x: x, y: y, previous: previous, beta: beta, gamma: gamma, next: next)
        }
    }
    return LearnedMomentumOutcome(outcome: outcome, fellBack: fellBack)
}

/// A trained learned momentum iteration.
public final class LearnedMomentum: @unchecked Sendable {
    public let network: LearnedMomentumNetwork
    public let options: LearnedMomentumOptions
    public internal(set) var trainingSeconds = 0.0
    public internal(set) var loadedFromCache = false
    /// Mean final log10 residual on the training family (after training).
    public internal(set) var trainingLoss: Double? = nil

    init(network: LearnedMomentumNetwork, options: LearnedMomentumOptions) { self.network = network; self.options = options }

    /// Scale-free features: [ρ, log10(ρ − θ)/8, clamp(ln(r_k/r_{k−1}), ±5)/5, log10(r_k)/16, w_{k−1}].
    static func features(_ o: MomentumObservation, previousOutput: Double) -> [Double] {
        let gap = max(o.rho - o.ritzSecond, 1e-16)
        let ratio = o.previousResidual.map { max(min(log(o.residual / max($0, 1e-300)), 5), -5) } ?? 0
        return [o.rho, log10(gap) / 8, ratio / 5, log10(max(o.residual, 1e-300)) / 16, previousOutput]
    }

    /// The policy of one run (it carries the network's hidden state).
    func policy() -> MomentumPolicy {
        var hidden = [Double](repeating: 0, count: network.hiddenSize)
        var previousOutput = 0.0
        let network = self.network
        return { observation in
            let w = network.step(Self.features(observation, previousOutput: previousOutput), hidden: &hidden)
            previousOutput = w
            guard observation.ritzSecond > -1 else { return (0, 0) }
            let t = observation.ritzSecond + w * (observation.rho - observation.ritzSecond)
            return momentumCoefficients(secondEigenvalue: t)
        }
    }

    public func run(_ operator: ScaledOperator, start: [Double], settings: IterationSettings, probe: EigenspaceProbe?,
                    angleTarget: Double) -> IterationOutcome {
        let result = runMomentumPolicy(`operator`, start: normalised(start), settings: settings, probe: probe,
                                       angleTarget: angleTarget, policy: policy())
        var outcome = result.outcome
        if result.fellBack { outcome.failure = (outcome.failure.map { $0 + "; " } ?? "") + "safeguard: fell back to power iteration" }
        return outcome
    }

    public static func checkpointURL(in directory: URL, options: LearnedMomentumOptions) -> URL {
        directory.appendingPathComponent("eigen-learned-\(options.fingerprint).json")
    }

    private struct Stored: Codable { var options: LearnedMomentumOptions; var network: LearnedMomentumNetwork; var family: String; var loss: Double? }

    /// Loads the cached parameters for `options` from `directory`, or trains and caches them (atomically).
    public static func loadOrTrain(options: LearnedMomentumOptions, directory: URL?) throws -> LearnedMomentum {
        if let directory {
            let url = checkpointURL(in: directory, options: options)
            if let data = try? Data(contentsOf: url) {
                let stored = try JSONDecoder().decode(Stored.self, from: data)
                guard stored.options == options else {
                    throw EigenExperimentError("\(url.path): the cached learned model was trained with other options; delete it to retrain")
                }
                let model = LearnedMomentum(network: stored.network, options: options)
                model.loadedFromCache = true
                model.trainingLoss = stored.loss
                return model
            }
        }
        let model = train(options: options)
        if let directory {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder(); encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            let data = try encoder.encode(Stored(options: options, network: model.network, family: options.familyDescription, loss: model.trainingLoss))
            try data.write(to: checkpointURL(in: directory, options: options), options: .atomic)
        }
        return model
    }

    /// The training family (scaled operators, largest eigenvector wanted).
    static func trainingFamily(_ options: LearnedMomentumOptions) -> [ScaledOperator] {
        var generator = SplitMix64(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x4641_4D)
        var family: [ScaledOperator] = []
        for index in 0..<options.trainingMatrices {
            let entries: [Double], n: Int
            switch index % 3 {
            case 0:
                n = [8, 16, 32, 64][Int(generator.next() % 4)]
                let gap = pow(10, -3 + 2.5 * generator.nextUniform())
                let clusterSize = Int(generator.next() % 4)
                var values = [1.0, 1 - gap]
                for _ in 0..<min(clusterSize, n - 2) { values.append(1 - gap - gap * 3 * generator.nextUniform()) }
                while values.count < n { values.append(-1 + (2 - 2 * gap) * generator.nextUniform()) }
                entries = prescribedSpectrum(values, &generator)
            case 1:
                n = 32 + Int(generator.next() % 225)
                var e = [Double](repeating: 0, count: n * n)
                let strength = pow(10, -2 + 3 * generator.nextUniform())
                for i in 0..<n {
                    e[i * n + i] = 2 + strength * generator.nextUniform()
                    if i + 1 < n { e[i * n + i + 1] = -1; e[(i + 1) * n + i] = -1 }
                }
                entries = e
            default:
                let g = 3 + Int(generator.next() % 14)
                n = g * g
                entries = gridLaplacian(g).dense()
            }
            let largest = generator.next() % 2 == 0
            family.append(ScaledOperator(SparseSymmetricMatrix(entries: entries, dimension: n), largest: largest))
        }
        return family
    }

    /// Mean over the family of log10 of the residual after `unroll` products (floored at 1e-13).
    static func loss(_ network: LearnedMomentumNetwork, family: [ScaledOperator], starts: [[Double]], unroll: Int) -> Double {
        var settings = IterationSettings()
        settings.tolerance = 1e-13
        settings.maximumProducts = unroll
        let model = LearnedMomentum(network: network, options: LearnedMomentumOptions())
        var total = 0.0
        for (op, start) in zip(family, starts) {
            let result = runMomentumPolicy(op, start: start, settings: settings, probe: nil, angleTarget: 0, safeguard: true, policy: model.policy())
            let x = result.outcome.vector
            let y = op.matrixApply(x)
            let rho = dot(x, y) / dot(x, x)
            let r = (zip(y, x).reduce(0) { $0 + ($1.0 - rho * $1.1) * ($1.0 - rho * $1.1) } / dot(x, x)).squareRoot()
            total += log10(max(r.isFinite ? r : 1, 1e-13))
        }
        return total / Double(family.count)
    }

    /// Trains by antithetic evolution strategies through the unrolled iteration (the loss is not smooth in the
    /// parameters where the safeguard switches, so gradients by BPTT would miss that part), Adam on the estimate.
    public static func train(options: LearnedMomentumOptions) -> LearnedMomentum {
        let clock = ContinuousClock.now
        let family = trainingFamily(options)
        var startGenerator = SplitMix64(seed: options.seed ^ 0x5354_4152_54)
        let starts = family.map { randomUnitVector($0.dimension, &startGenerator) }
        var network = LearnedMomentumNetwork(hiddenSize: options.hiddenSize, seed: options.seed)
        var noise = SplitMix64(seed: options.seed ^ 0x4E4F_4953_45)
        let count = network.parameters.count
        var m = [Double](repeating: 0, count: count), v = [Double](repeating: 0, count: count)
        var bestNetwork = network
        var bestLoss = loss(network, family: family, starts: starts, unroll: options.unroll)
        for generation in 1...max(options.generations, 1) {
            var gradient = [Double](repeating: 0, count: count)
            for _ in 0..<options.pairs {
                let epsilon = (0..<count).map { _ in noise.nextNormal() }
                var plus = network, minus = network
                for i in 0..<count { plus.parameters[i] += options.sigma * epsilon[i]; minus.parameters[i] -= options.sigma * epsilon[i] }
                let difference = loss(plus, family: family, starts: starts, unroll: options.unroll)
                    - loss(minus, family: family, starts: starts, unroll: options.unroll)
                for i in 0..<count { gradient[i] += difference * epsilon[i] / (2 * options.sigma * Double(options.pairs)) }
            }
            for i in 0..<count {
                m[i] = 0.9 * m[i] + 0.1 * gradient[i]
                v[i] = 0.999 * v[i] + 0.001 * gradient[i] * gradient[i]
                let mHat = m[i] / (1 - pow(0.9, Double(generation))), vHat = v[i] / (1 - pow(0.999, Double(generation)))
                network.parameters[i] -= options.learningRate * mHat / (vHat.squareRoot() + 1e-8)
            }
            let current = loss(network, family: family, starts: starts, unroll: options.unroll)
            if current < bestLoss { bestLoss = current; bestNetwork = network }
        }
        let model = LearnedMomentum(network: bestNetwork, options: options)
        model.trainingLoss = bestLoss
        model.trainingSeconds = (ContinuousClock.now - clock).seconds
        return model
    }
}

/// A = Q diag(values) Qᵀ with Q a product of three random Householder reflectors.
func prescribedSpectrum(_ values: [Double], _ generator: inout SplitMix64) -> [Double] {
    let n = values.count
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n { a[i * n + i] = values[i] }
    for _ in 0..<3 {
        let v = normalised((0..<n).map { _ in generator.nextNormal() })
        // H A H with H = I − 2vvᵀ: A − 2 v wᵀ − 2 w vᵀ + 4 (vᵀAv) v vᵀ, w = A v.
        var w = [Double](repeating: 0, count: n)
        for i in 0..<n { var s = 0.0; for j in 0..<n { s += a[i * n + j] * v[j] }; w[i] = s }
        let vav = dot(v, w)
        for i in 0..<n { for j in 0..<n { a[i * n + j] += -2 * v[i] * w[j] - 2 * w[i] * v[j] + 4 * vav * v[i] * v[j] } }
        for i in 0..<n { for j in 0..<i { let s = 0.5 * (a[i * n + j] + a[j * n + i]); a[i * n + j] = s; a[j * n + i] = s } }
    }
    return a
}
