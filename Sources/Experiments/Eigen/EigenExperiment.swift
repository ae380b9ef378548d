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
    /// The learned LSTM iteration.
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
    /// Product budget of the learned iteration for one eigenpair.
    public var learnedBudget = 2000
    /// GSL integration of the flow (its `tolerance` is replaced by `tolerance` above).
    public var flow = YiFlowSettings()
    public var learned = LearnedIterationOptions()
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

/// Runs every configured method on `matrix` and compares each eigenpair with GSL.
/// `modelDirectory` caches the learned model (DIR/models); nil trains in memory only.
public func runEigenExperiment(_ matrix: MatrixProblem, configuration: EigenConfiguration,
                               modelDirectory: URL?) throws -> EigenReport {
    let n = matrix.dimension
    let gslClock = ContinuousClock.now
    let gsl = try symmetricEigen(matrix.entries, dimension: n)
    let gslSeconds = (ContinuousClock.now - gslClock).seconds
    let sparse = SparseSymmetricMatrix(matrix)
    let halfWidth = max(0.5 * (sparse.upper - sparse.lower), 1e-300)
    let clusterGap = 1e-9 * halfWidth

    var learned: LearnedIteration? = nil
    if configuration.methods.contains(.lstm) {
        learned = try LearnedIteration.loadOrTrain(options: configuration.learned, directory: modelDirectory)
    }
    var flow = configuration.flow
    flow.tolerance = configuration.tolerance
    var iteration = IterationSettings()
    iteration.tolerance = configuration.tolerance
    iteration.maximumProducts = configuration.maximumProducts
    var learnedIteration = iteration
    learnedIteration.maximumProducts = configuration.learnedBudget

    var rows: [EigenRow] = []
    var histories: [ConvergenceHistory] = []
    for method in configuration.methods {
        for chain in configuration.selection.chains(dimension: n) {
            let scaled = ScaledOperator(sparse, largest: chain.largest)
            for index in chain.indices {
                var start = startVector(dimension: n, seed: configuration.seed, largest: chain.largest, index: index)
                scaled.orthogonalise(&start)
                start = normalised(start)
                let probe = eigenspace(of: index, in: gsl, gap: clusterGap)
                let clock = ContinuousClock.now
                let outcome: IterationOutcome
                switch method {
                case .yi:
                    outcome = runYiFlow(scaled, start: start, settings: flow, probe: probe, angleTarget: configuration.angleTarget)
                case .yiDiscrete:
                    outcome = runDiscreteYi(scaled, start: start, step: configuration.step, settings: iteration,
                                            probe: probe, angleTarget: configuration.angleTarget)
                case .power:
                    outcome = runPowerIteration(scaled, start: start, settings: iteration, probe: probe, angleTarget: configuration.angleTarget)
                case .lstm:
                    outcome = learned!.run(scaled, start: start, settings: learnedIteration, probe: probe, angleTarget: configuration.angleTarget)
                }
                let seconds = (ContinuousClock.now - clock).seconds
                let finalNorm = norm(outcome.vector)
                // Re-orthogonalise against the vectors already found, then deflate with the Rayleigh quotient.
                var vector = outcome.vector.allSatisfy(\.isFinite) ? outcome.vector : start
                scaled.orthogonalise(&vector)
                vector = normalised(vector)
                if !vector.allSatisfy(\.isFinite) { vector = start }
                let lambda = sparse.rayleighQuotient(vector)
                scaled.deflate(vector, scaledEigenvalue: scaled.sign * (lambda - scaled.center) / scaled.scale)

                let reference = gsl.values[index]
                let absoluteError = abs(lambda - reference)
                rows.append(EigenRow(
                    index: index, method: method, eigenvalue: lambda, gslEigenvalue: reference,
                    exactEigenvalue: matrix.exactEigenvalue(index), absoluteError: absoluteError,
                    relativeError: absoluteError / (reference != 0 ? abs(reference) : halfWidth),
                    vectorAngle: probe.angle(vector), iterations: outcome.products, seconds: seconds,
                    converged: outcome.converged, steps: outcome.steps, flowTime: outcome.flowTime,
                    productsToAngle: outcome.productsToAngle, finalNorm: finalNorm, failure: outcome.failure, vector: vector))
                histories.append(ConvergenceHistory(method: method, index: index, points: outcome.history))
            }
        }
    }
    rows.sort { ($0.method.order, $0.index) < ($1.method.order, $1.index) }
    return EigenReport(matrixName: matrix.name, matrixTitle: matrix.title, dimension: n, configuration: configuration,
                       rows: rows, histories: histories, gsl: gsl, gslSeconds: gslSeconds,
                       gershgorin: sparse.lower...sparse.upper,
                       learnedTrainingSeconds: learned?.trainingSeconds, learnedFromCache: learned?.loadedFromCache, learnedValidationScore: learned?.validationScore,
                       learnedCheckpoint: learned != nil ? modelDirectory.map { LearnedIteration.checkpointURL(in: $0, options: configuration.learned) } : nil)
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
    let matrix = try MatrixCatalog.load(nameOrPath)
    let report = try runEigenExperiment(matrix, configuration: configuration.adapted(to: matrix),
                                        modelDirectory: outputDirectory.appendingPathComponent("models", isDirectory: true))
    let (files, plot) = try EigenOutput.write(report, to: outputDirectory, command: command)
    return (report, files, plot)
}
