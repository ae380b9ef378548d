// The documented limits of rnnode, each checked before the work it bounds (problems/README.md lists them).
import Foundation

/// Limits on input sizes, checked before any allocation they would size. Errors name the limit.
public enum Limits {
    /// Output rows of one trajectory: (end − start)/step + 1. 10⁷ rows of a few variables is already gigabytes of CSV.
    public static let outputRows = 10_000_000

    /// The number of output rows of the grid start, start + step, …, end, or a message saying why it is refused:
    /// not finite, not increasing, a step so small that start + step rounds to start (or below the double resolution
    /// of the span), or more than `outputRows` rows.
    public static func outputRowCount(start: Double, end: Double, step: Double) -> Result<Int, LimitError> {
        guard start.isFinite, end.isFinite else { return .failure(LimitError("the time span \(start) … \(end) is not finite")) }
        guard step.isFinite, step > 0 else { return .failure(LimitError("the output step \(step) is not a positive finite number")) }
        guard end > start else { return .failure(LimitError("the end time \(end) is not after the start time \(start)")) }
        let resolution = max(abs(start), abs(end)).ulp
        guard step > 16 * resolution else {
            return .failure(LimitError("the output step \(step) is below the resolution of doubles near t = \(max(abs(start), abs(end))) (\(resolution)); use a larger step or shift the time origin"))
        }
        let intervals = ((end - start) / step).rounded(.up)
        guard intervals + 1 <= Double(outputRows) else {
            return .failure(LimitError("\(String(format: "%.3g", intervals + 1)) output rows from \(start) to \(end) every \(step): more than the limit of \(outputRows); use a larger step or a shorter span"))
        }
        return .success(Int(intervals) + 1)
    }
}

/// A limit that an input exceeds; the caller adds where (file and line, or option).
public struct LimitError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
