// The learned iteration against discrete Yi, power iteration and the Yi flow on held-out members of its training
// family: products with A to reach an angle, eigenvalue error after a fixed budget, and how often each fails.
import Foundation
import Support
import Problems
import Reference

public struct HeldOutConfiguration: Codable, Hashable, Sendable {
    /// Held-out matrices (seeds from a stream the training never draws from).
    public var count = 50
    /// Angles (radians) whose first product count is reported.
    public var angleTargets = [1e-3, 1e-6]
    /// Products with A allowed to every method for one matrix.
    public var budget = 1000
    public init() {}
}

public struct HeldOutRow: Sendable, Equatable {
    public var method: EigenMethod
    public var matrixSeed: UInt64
    public var angleTarget: Double
    /// Products to reach the angle; nil: not within the budget (a failure).
    public var productsToAngle: Int?
    /// Angle and relative eigenvalue error of the last iterate.
    public var finalAngle: Double
    public var finalRelativeError: Double
}

public struct HeldOutSummary: Sendable, Equatable {
    public var method: EigenMethod
    public var angleTarget: Double
    public var matrices: Int
    public var failures: Int
    public var failureRate: Double { matrices == 0 ? 0 : Double(failures) / Double(matrices) }
    /// Median products over the matrices where the angle was reached (nil when none).
    public var medianProducts: Double?
    public var medianFinalRelativeError: Double
    public var medianFinalAngle: Double
}

public enum HeldOutEvaluation {
    public static let header = ["method", "matrix_seed", "angle_target", "products_to_angle", "final_angle", "final_rel_error"]

    /// Runs `methods` on `configuration.count` held-out members of the learned model's family, for the largest
    /// eigenvalue (M = +A scaled), each from the same random start, each with the same product budget.
    public static func run(methods: [EigenMethod], eigen: EigenConfiguration, heldOut: HeldOutConfiguration,
                           modelDirectory: URL?) throws -> [HeldOutRow] {
        let options = eigen.learned
        let family = RandomSymmetricFamily(dimension: options.dimension, distribution: options.distribution)
        let learned = methods.contains(.lstm) ? try LearnedIteration.loadOrTrain(options: options, directory: modelDirectory) : nil
        let momentum = methods.contains(.learned) ? try LearnedMomentum.loadOrTrain(options: eigen.learnedMomentum, directory: modelDirectory) : nil
        var iteration = IterationSettings()
        iteration.tolerance = 1e-15
        iteration.maximumProducts = heldOut.budget
        var flow = eigen.flow
        flow.tolerance = 1e-15
        flow.maximumProducts = heldOut.budget
        var rows: [HeldOutRow] = []
        for seed in options.familySeeds(stream: 3, count: heldOut.count) {
            let entries = family.member(seed: seed)
            let n = options.dimension
            let gsl = try symmetricEigen(entries, dimension: n)
            let sparse = SparseSymmetricMatrix(entries: entries, dimension: n)
            let probe = eigenspace(of: n - 1, in: gsl, gap: 1e-9 * 0.5 * (sparse.upper - sparse.lower))
            let start = startVector(dimension: n, seed: seed ^ eigen.seed, largest: true, index: n - 1)
            for method in methods {
                for target in heldOut.angleTargets {
                    let scaled = ScaledOperator(sparse, largest: true)
                    let outcome: IterationOutcome
                    switch method {
                    case .yi: outcome = runYiFlow(scaled, start: start, settings: flow, probe: probe, angleTarget: target)
                    case .yiDiscrete: outcome = runDiscreteYi(scaled, start: start, step: eigen.step, settings: iteration, probe: probe, angleTarget: target)
                    case .power: outcome = runPowerIteration(scaled, start: start, settings: iteration, probe: probe, angleTarget: target)
                    case .momentumOracle:
                        let second = oracleSecondEigenvalue(index: n - 1, found: [], values: gsl.values,
                                                            gap: 1e-9 * 0.5 * (sparse.upper - sparse.lower), scaled: scaled)
                        outcome = runMomentumIteration(scaled, start: start, secondEigenvalue: second, settings: iteration, probe: probe, angleTarget: target)
                    case .lanczos: outcome = runLanczos(scaled, start: start, settings: iteration, probe: probe, angleTarget: target)
                    case .learned: outcome = momentum!.run(scaled, start: start, settings: iteration, probe: probe, angleTarget: target)
                    case .lstm: outcome = learned!.run(scaled, start: start, settings: iteration, probe: probe, angleTarget: target)
                    }
                    let vector = outcome.vector.allSatisfy(\.isFinite) ? outcome.vector : start
                    let lambda = sparse.rayleighQuotient(vector)
                    let reference = gsl.values[n - 1]
                    rows.append(HeldOutRow(method: method, matrixSeed: seed, angleTarget: target,
                                           productsToAngle: outcome.productsToAngle.flatMap { $0 <= heldOut.budget ? $0 : nil },
                                           finalAngle: outcome.vector.allSatisfy(\.isFinite) ? probe.angle(vector) : .nan,
                                           finalRelativeError: outcome.vector.allSatisfy(\.isFinite) ? abs(lambda - reference) / abs(reference) : .nan))
                }
            }
        }
        return rows
    }

    public static func summarise(_ rows: [HeldOutRow]) -> [HeldOutSummary] {
        var summaries: [HeldOutSummary] = []
        var keys: [(EigenMethod, Double)] = []
        for row in rows where !keys.contains(where: { $0.0 == row.method && $0.1 == row.angleTarget }) { keys.append((row.method, row.angleTarget)) }
        for (method, target) in keys {
            let mine = rows.filter { $0.method == method && $0.angleTarget == target }
            let reached = mine.compactMap(\.productsToAngle).map(Double.init)
            summaries.append(HeldOutSummary(method: method, angleTarget: target, matrices: mine.count,
                                            failures: mine.count - reached.count, medianProducts: median(reached),
                                            medianFinalRelativeError: median(mine.map { $0.finalRelativeError.isNaN ? .infinity : $0.finalRelativeError }) ?? .nan,
                                            medianFinalAngle: median(mine.map { $0.finalAngle.isNaN ? .infinity : $0.finalAngle }) ?? .nan))
        }
        return summaries
    }

    public static func table(_ rows: [HeldOutRow]) -> CSVTable {
        var table = CSVTable(header: header)
        for row in rows {
            table.append([row.method.rawValue, String(row.matrixSeed), CSV.format(row.angleTarget),
                          row.productsToAngle.map(String.init) ?? "", CSV.format(row.finalAngle), CSV.format(row.finalRelativeError)])
        }
        return table
    }

    public static func summaryTable(_ summaries: [HeldOutSummary], budget: Int) -> SummaryTable {
        var table = SummaryTable(header: ["method", "angle target", "median matvecs", "failure rate", "median rel error @\(budget)", "median angle @\(budget)"])
        for s in summaries {
            table.append([s.method.rawValue, SummaryTable.format(s.angleTarget, significantDigits: 1),
                          s.medianProducts.map { String(Int($0.rounded())) } ?? "—",
                          "\(s.failures)/\(s.matrices)", SummaryTable.format(s.medianFinalRelativeError, significantDigits: 2),
                          SummaryTable.format(s.medianFinalAngle, significantDigits: 2)])
        }
        return table
    }

    /// errors.csv rows: per method and angle target, the median products, failure rate and median final errors.
    public static func errorRows(_ summaries: [HeldOutSummary], problem: String, seed: UInt64) -> [ErrorRow] {
        summaries.flatMap { s -> [ErrorRow] in
            let suffix = "_heldout_angle\(CSV.format(s.angleTarget))"
            return [
                ErrorRow(experiment: EigenOutput.experiment, problem: problem, model: s.method.rawValue, seed: seed,
                         metric: SummaryMetric.medianIterations.name + suffix, value: s.medianProducts ?? .infinity,
                         unit: SummaryMetric.medianIterations.unit),
                ErrorRow(experiment: EigenOutput.experiment, problem: problem, model: s.method.rawValue, seed: seed,
                         metric: SummaryMetric.failureRate.name + suffix, value: s.failureRate, unit: SummaryMetric.failureRate.unit),
                ErrorRow(experiment: EigenOutput.experiment, problem: problem, model: s.method.rawValue, seed: seed,
                         metric: SummaryMetric.medianFinalRelativeError.name + suffix, value: s.medianFinalRelativeError,
                         unit: SummaryMetric.medianFinalRelativeError.unit),
            ]
        }
    }

    /// The median, nil for an empty list.
    static func median(_ values: [Double]) -> Double? { values.isEmpty ? nil : Support.median(values) }
}
