// The expression language of problem files: parsed once into a compact program, evaluated without allocation.

/// A compiled arithmetic expression over a fixed list of named slots (variables, `t`, parameters, …).
///
/// Grammar: numbers (with exponents), `+ - * / ^` (`^` right-associative, binds tighter than unary minus),
/// unary minus, parentheses, slot names, constants `pi` and `e`, and the functions
/// `sin cos tan asin acos atan atan2 sinh cosh tanh exp log sqrt abs pow min max`.
/// A slot named `pi` or `e` hides the constant.
///
/// Limits, checked while parsing (an `ExpressionError` names the column and the limit): at most
/// `Limits.expressionLength` characters and `Limits.expressionDepth` levels of nesting. A sum or product of more
/// than `Limits.leftToRightTerms` terms is evaluated pairwise, shorter ones left to right as written.
public struct Expression: Sendable, CustomStringConvertible {
    /// The slot names, in the order `evaluate` reads them.
    public let slots: [String]
    let node: Node
    let program: Program
    private let text: String?

    /// The source text the expression was parsed from (or a rendering of a derived expression).
    public var description: String { text ?? node.rendered(slots) }

    /// True when the expression reads no slot (after constant folding).
    public var isConstant: Bool { node.constantValue != nil }

    /// Names of the slots the expression reads, in slot order.
    public var slotsUsed: [String] {
        var used = Set<Int>()
        node.collectSlots(into: &used)
        return used.sorted().map { slots[$0] }
    }

    init(node: Node, slots: [String], text: String? = nil) {
        self.node = node
        self.slots = slots
        self.text = text
        // All slots are inputs; the extra register after them is unused.
        program = Program(roots: [(node, 0, 0)], inputCount: slots.count)
    }

    /// Parses `text`; every name must be one of `slots` (or a constant); `slots[i]` is read from `values[i]`.
    public static func parse(_ text: String, slots: [String]) throws -> Expression {
        let (node, _) = try Parser.parse(text, slots: slots)
        return Expression(node: node, slots: slots, text: text)
    }

    /// Evaluates with `values[i]` bound to slot `i`. No heap allocation.
    public func evaluate(_ values: UnsafePointer<Double>) -> Double {
        var result = 0.0
        withUnsafeMutablePointer(to: &result) { out in
            program.run(inputs: values, extra: 0, output0: out, output1: out)
        }
        return result
    }

    /// Convenience for tests and non-hot paths.
    public func evaluate(_ values: [Double]) -> Double {
        precondition(values.count >= slots.count, "expression over \(slots.count) slots given \(values.count) values")
        return values.withUnsafeBufferPointer { evaluate($0.baseAddress ?? UnsafePointer(bitPattern: 8)!) }
    }

    /// The symbolic derivative with respect to slot `index`, simplified.
    public func derivative(withRespectTo index: Int) -> Expression {
        precondition(slots.indices.contains(index), "no slot \(index) in \(slots)")
        return Expression(node: node.derivative(index), slots: slots)
    }

    /// The symbolic derivative with respect to the slot called `name`, simplified.
    public func derivative(withRespectTo name: String) -> Expression {
        guard let index = slots.firstIndex(of: name) else { preconditionFailure("no slot '\(name)' in \(slots)") }
        return derivative(withRespectTo: index)
    }
}

/// A parse error: what went wrong and the 1-based column in the expression text.
public struct ExpressionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var column: Int
    /// The closest known name, when the error is an unknown name.
    public var suggestion: String?
    /// A short hint on how to fix it.
    public var hint: String?
    public init(message: String, column: Int, suggestion: String? = nil, hint: String? = nil) {
        self.message = message; self.column = column; self.suggestion = suggestion; self.hint = hint
    }
    /// The advice in parentheses after the position: `did you mean 'rho'?` or the hint.
    public var advice: String? { suggestion.map { "did you mean '\($0)'?" } ?? hint }
    public var description: String { "\(message) at column \(column)" + (advice.map { " (\($0))" } ?? "") }
}
