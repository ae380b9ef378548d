// The documented limits of rnnode, each checked before the work it bounds (problems/README.md lists them).
import Foundation

/// Limits on input sizes, checked before any allocation they would size. Errors name the limit.
public enum Limits {
    /// Output rows of one trajectory: (end − start)/step + 1. 10⁷ rows of a few variables is already gigabytes of CSV.
    public static let outputRows = 10_000_000

    /// Characters (UTF-8 bytes) of one expression, checked before it is read: a sum of 20,000 terms is about 200 kB.
    public static let expressionLength = 1_000_000

    /// Nesting of one expression: parentheses, function calls, exponents, and the depth of the expression tree
    /// (a chain of n + and − is as deep as its longest run of terms added left to right, see `leftToRightTerms`).
    /// Every pass over an expression (simplify, derivative, print, compile) recurses at most this deep, times a
    /// small constant for derivatives, so a hostile file cannot exhaust the stack.
    public static let expressionDepth = 128

    /// A chain of up to this many terms (`a + b - c + …`, or factors `a * b / c * …`) is evaluated left to right as
    /// written; a longer chain is split in halves, recursively, down to runs of at most this many terms (pairwise
    /// summation: depth and rounding error grow as log n instead of n).
    public static let leftToRightTerms = 32

    /// Variables (state dimension) of a problem file. The Jacobian handed to GSL is dense: d² doubles.
    public static let variables = 2_000

    /// Size of a file read whole (problem, matrix and Matrix Market files).
    public static let fileBytes = 64 << 20

    /// Dimension of a matrix: dense storage, n² doubles (4000² is 128 MB), checked before it is allocated.
    public static let matrixDimension = 4_000

    /// Length of a problem or matrix `name`, which names output files.
    public static let nameLength = 64

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

extension Limits {
    /// Why `name` cannot name a problem or matrix, or nil when it can. Names become file and folder names under
    /// `--out` and words on gnuplot command lines, so they are plain words: a letter or digit, then letters, digits
    /// and `. _ + -`, no `..`, at most `nameLength` characters. No `/`, no leading `-` or `.`, never empty.
    public static func invalidNameReason(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.count > nameLength { return "the name is \(name.count) characters long, more than the limit of \(nameLength)" }
        func isAlphanumeric(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        guard let first = name.first, isAlphanumeric(first) else {
            return "a name must start with a letter or digit"
        }
        if let bad = name.first(where: { !isAlphanumeric($0) && !"._+-".contains($0) }) {
            return "a name may hold letters, digits and . _ + - only, not '\(bad)'"
        }
        if name.contains("..") { return "a name may not contain '..'" }
        return nil
    }
}

/// A limit that an input exceeds; the caller adds where (file and line, or option).
public struct LimitError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
