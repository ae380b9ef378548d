// The comparison grid: ODE problems × models × seeds and eigen matrices × methods, enumerated in a fixed
// order so that shards, resumes and merges all agree on what a cell is.
import Foundation

/// One cell of the grid: a single `rnnode solve` or `rnnode eigen` run.
public struct GridCell: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Experiment: String, Sendable, Codable { case solve, eigen }
    public var experiment: Experiment
    /// Problem name (solve) or matrix name (eigen).
    public var subject: String
    /// Model (solve) or method (eigen).
    public var model: String
    public var seed: Int

    public init(experiment: Experiment, subject: String, model: String, seed: Int) {
        self.experiment = experiment; self.subject = subject; self.model = model; self.seed = seed
    }

    /// A file-name-safe key, unique within a grid: `solve-lorenz-lstm-s1`.
    public var key: String { "\(experiment.rawValue)-\(subject)-\(model)-s\(seed)" }
    public var description: String { "\(experiment.rawValue) \(subject) \(model) seed \(seed)" }
}

/// What to run: the axes of the grid and whether to use the quick settings.
public struct GridSpecification: Sendable, Equatable {
    public var problems: [String]
    public var models: [String]
    public var matrices: [String]
    public var methods: [String]
    public var seeds: Int
    public var quick: Bool
    /// `--tune N` for every solve cell; nil: none.
    public var tune: Int?
    /// `--budget SECONDS` for every solve cell of a network trained by backpropagation (rnn, lstm, gru); the
    /// models fitted in closed form ignore a budget, so their cells do not get it. nil: solve's default.
    public var budget: Double?
    /// `--vpt-threshold E` for every solve cell (only the metric: the cells' cached models are reused); nil or the
    /// default 0.4: not passed.
    public var vptThreshold: Double?
    /// `--select-by` for every solve cell of a network trained by backpropagation; nil or the default: not passed.
    public var selection: WeightSelection?

    public init(problems: [String], models: [String], matrices: [String], methods: [String], seeds: Int, quick: Bool,
                tune: Int? = nil, budget: Double? = nil, vptThreshold: Double? = nil, selection: WeightSelection? = nil) {
        self.problems = problems; self.models = models; self.matrices = matrices; self.methods = methods
        self.seeds = seeds; self.quick = quick; self.tune = tune; self.budget = budget; self.vptThreshold = vptThreshold
        self.selection = selection
    }

    /// Every cell, in a fixed order: ODE cells (problem, model, seed), then eigen cells (matrix, method, seed).
    /// Seeds are 1…seeds. Eigen methods other than the learned one are deterministic, so they run once (seed 1).
    public func cells() -> [GridCell] {
        var cells: [GridCell] = []
        for problem in problems {
            for model in models {
                for seed in 1...max(seeds, 1) {
                    cells.append(GridCell(experiment: .solve, subject: problem, model: model, seed: seed))
                }
            }
        }
        for matrix in matrices {
            for method in methods {
                let methodSeeds = GridSpecification.seededEigenMethods.contains(method) ? max(seeds, 1) : 1
                for seed in 1...methodSeeds {
                    cells.append(GridCell(experiment: .eigen, subject: matrix, model: method, seed: seed))
                }
            }
        }
        return cells
    }

    /// Eigen methods whose result depends on the seed (trained models).
    public static let seededEigenMethods: Set<String> = ["lstm"]
}

/// `--shard I/N`: the cells whose position in the grid is I−1 modulo N. The N shards partition the grid.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        precondition(count >= 1 && (1...count).contains(index))
        self.index = index; self.count = count
    }

    /// Parses `I/N` with 1 ≤ I ≤ N.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(i) else { return nil }
        self.init(index: i, count: n)
    }

    public static let whole = Shard(index: 1, count: 1)

    public func select(_ cells: [GridCell]) -> [GridCell] {
        cells.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }

    public var description: String { "\(index)/\(count)" }
}

/// Parses a comma-separated axis (`all` or `a,b,c`) against the known values; unknown names are an error
/// that lists the known ones.
public func parseAxis(_ text: String, known: [String], what: String) throws -> [String] {
    if text == "all" { return known }
    if text == "none" || text.isEmpty { return [] }
    let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    for name in names where !known.contains(name) {
        throw GridError("unknown \(what) '\(name)'; known: \(known.joined(separator: ", "))")
    }
    var seen = Set<String>()
    return names.filter { seen.insert($0).inserted }
}

public struct GridError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
