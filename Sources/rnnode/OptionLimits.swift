// The documented limits of the CLI's numeric and list options, checked in `validate()` before any work they size:
// each integer option has a range, and the sizes that multiply into memory are checked together against a budget.
import ArgumentParser
import Foundation
import Problems

/// Ranges of the integer options (README lists them) and the memory budget of their products.
enum OptionLimits {
    /// Network shapes; a problem file's `hidden` shares the range.
    static let hidden = LearningSettings.hiddenRange
    static let layers = 1...16
    static let inputOrOutput = 1...4096
    // Training lengths: beyond these a run takes days, and counters such as epochs × batches approach overflow.
    static let epochs = 1...1_000_000
    static let batchSize = 1...65_536
    static let sequenceSteps = 1...100_000
    /// A problem file's `window` shares the range.
    static let window = LearningSettings.windowRange
    /// Trajectory counts; a problem file's `train_trajectories` shares the range.
    static let trajectories = LearningSettings.trainTrajectoriesRange
    static let rolloutSteps = LearningSettings.rolloutStepsRange
    /// ngrc's monomial degree; a problem file's `degree` shares the range.
    static let degree = LearningSettings.degreeRange
    /// A problem file's `validation_trajectories` shares the range.
    static let validationTrajectories = LearningSettings.validationTrajectoriesRange
    // A sparse reservoir (CSR, spectral radius by Arnoldi above 1024 units): memory is the ridge normal equations,
    // (N + 1 + d)² doubles per fitting thread plus one for the solve (20000 units: 3.2 GB each), checked against
    // the memory budget by the solve command's estimate; time is the Cholesky solve, N³/3 flops (2.7·10¹² at 20000).
    static let reservoirSize = 1...20_000
    // The comparison grid: seeds per cell and parallel cells on one machine.
    static let seeds = 1...1000
    static let jobs = 1...256
    static let threads = 1...256
    static let iterations = 1...1_000_000
    // `--tune N`: N trainings of the model, each a full fit (or a few epochs, for the early rungs).
    static let tuneTrials = 1...10_000
    static let peakSize = 0...8192
    // Eigen: product budgets bound time (one matrix–vector product each), the learned model's sizes bound memory.
    static let products = 1...1_000_000_000
    static let heldOut = 0...100_000
    static let learnedMatrices = 1...100_000
    static let learnedRounds = 1...100
    static let learnedCandidates = 1...100

    /// The most the sizes of one command may ask for together, estimated before any allocation.
    static let memoryBudget = 4.0 * 1_073_741_824

    /// Gates per cell (rnn 1, lstm 4, gru 3): the width of a layer's weights in units of the hidden size.
    static func gates(cell: String) -> Double {
        switch cell { case "lstm": 4; case "gru": 3; default: 1 }
    }

    /// `--option VALUE` within `range`, else a ValidationError naming the option and the bound it crosses.
    static func check(_ option: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
        guard let value, !range.contains(value) else { return }
        if value < range.lowerBound { throw ValidationError("\(option) must be at least \(range.lowerBound) (got \(value))") }
        throw ValidationError("\(option) must be at most \(range.upperBound) (got \(value))")
    }

    /// A finite number in `range` (open at 0 when `positive`).
    static func check(_ option: String, _ value: Double?, positive: Bool = true, atMost: Double? = nil) throws {
        guard let value else { return }
        guard value.isFinite, positive ? value > 0 : value >= 0 else {
            throw ValidationError("\(option) must be \(positive ? "positive" : "non-negative") and finite (got \(value))")
        }
        if let atMost, value > atMost { throw ValidationError("\(option) must be at most \(atMost) (got \(value))") }
    }

    /// Parts of a memory estimate: what (naming the options that size it) and bytes (a product in Double, so it
    /// cannot overflow).
    struct Estimate {
        var parts: [(what: String, bytes: Double)] = []
        mutating func add(_ what: String, _ factors: Double...) { parts.append((what, factors.reduce(1, *))) }
        var total: Double { parts.reduce(0) { $0 + $1.bytes } }

        /// A ValidationError when the total is above the budget, naming the largest part.
        func check() throws {
            guard total > memoryBudget || !total.isFinite else { return }
            let largest = parts.max { $0.bytes < $1.bytes }!
            throw ValidationError("these sizes need about \(gibibytes(total)) of memory, more than the limit of "
                + "\(gibibytes(memoryBudget)); the largest part is \(largest.what) (\(gibibytes(largest.bytes)))")
        }
    }

    static func gibibytes(_ bytes: Double) -> String {
        bytes >= 1_073_741_824 ? String(format: "%.3g GiB", bytes / 1_073_741_824) : String(format: "%.3g MiB", bytes / 1_048_576)
    }

    /// A path option that names something: not empty or blank (`--out ""` would mean the working folder).
    static func checkPath(_ option: String, _ path: String?) throws {
        guard let path, path.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        throw ValidationError("\(option) is empty; give a path")
    }

    /// The items of a comma-separated list option: none may be empty or blank (`--method ,`, `--models lstm,`).
    static func listItems(_ option: String, _ text: String) throws -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.contains(where: \.isEmpty) else {
            throw ValidationError("\(option) '\(text)' has an empty item; give a comma-separated list of names")
        }
        return items
    }
}
