// The expression language of problem files: parsed once into a compact program, evaluated without allocation.
// CONTRACT SKELETON: signatures are fixed; bodies are filled in by the Problems work.

/// A compiled arithmetic expression over a fixed list of named slots (variables, `t`, parameters, …).
///
/// Grammar: numbers (with exponents), `+ - * / ^` (`^` right-associative, binds tighter than unary minus),
/// unary minus, parentheses, slot names, constants `pi` and `e`, and the functions
/// `sin cos tan asin acos atan atan2 sinh cosh tanh exp log sqrt abs pow min max`.
public struct Expression: Sendable, CustomStringConvertible {
    /// The source text the expression was parsed from (or a rendering of a derived expression).
    public var description: String { fatalError("not implemented") }

    /// Parses `text`; every name must be one of `slots` (or a constant); `slots[i]` is read from `values[i]`.
    public static func parse(_ text: String, slots: [String]) throws -> Expression {
        fatalError("not implemented")
    }

    /// Evaluates with `values[i]` bound to slot `i`. No heap allocation.
    public func evaluate(_ values: UnsafePointer<Double>) -> Double { fatalError("not implemented") }

    /// Convenience for tests and non-hot paths.
    public func evaluate(_ values: [Double]) -> Double { values.withUnsafeBufferPointer { evaluate($0.baseAddress!) } }

    /// The symbolic derivative with respect to slot `index`, simplified.
    public func derivative(withRespectTo index: Int) -> Expression { fatalError("not implemented") }
}

/// A parse error: what went wrong and the 1-based column in the expression text.
public struct ExpressionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var column: Int
    public init(message: String, column: Int) { self.message = message; self.column = column }
    public var description: String { "\(message) at column \(column)" }
}
