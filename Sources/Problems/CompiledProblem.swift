// Compiling a ProblemSource with given parameter overrides: parameters resolved by dependency, expressions
// parsed against the problem's names, parameters folded in as constants, the vector field and Jacobian built.

/// The compiled form of a problem's declarations for one set of parameter values.
final class CompiledProblem: Sendable {
    let overrides: [String: Double]
    let parameters: [String: Double]
    let initial: [Double]
    let time: TimeSpan
    let sampling: [ClosedRange<Double>]?
    let transient: Double
    let vectorField: VectorField
    let invariants: [(name: String, expression: Expression)]
    let exact: [Expression]?

    init(source: ProblemSource, overrides: [String: Double]) throws(ProblemError) {
        var names = Names(source)
        self.overrides = overrides

        // Parameters: numbers, or expressions of other parameters, resolved in dependency order.
        var trees: [String: (node: Node, key: String)] = [:]
        for (name, value) in source.parameters {
            let key = "parameters.\(name)"
            switch value {
            case .number(let x):
                guard x.isFinite else { throw source.error(key, "must be a finite number, got \(x)") }
                names.parameterValues[name] = x
            case .expression(let text):
                trees[name] = (try names.parse(text, key: key, allowed: names.parameterSlots, context: .constant), key)
            }
        }
        for (name, value) in overrides { names.parameterValues[name] = value }
        var state: [String: Bool] = [:]  // false: in progress, true: done
        func resolve(_ name: String, chain: [String]) throws(ProblemError) {
            if state[name] == true || names.parameterValues[name] != nil && trees[name] == nil { return }
            if overrides[name] != nil { state[name] = true; return }
            guard let (node, key) = trees[name] else { return }
            if state[name] == false {
                let cycle = (chain.drop(while: { $0 != name }) + [name]).joined(separator: " → ")
                throw source.error(key, "circular definition \(cycle)")
            }
            state[name] = false
            var used = Set<Int>()
            node.collectSlots(into: &used)
            for slot in used.sorted() { try resolve(names.universe[slot], chain: chain + [name]) }
            let value = names.bind(node).constantValue!
            guard value.isFinite else { throw source.error(key, "evaluates to \(value)") }
            names.parameterValues[name] = value
            state[name] = true
        }
        for (name, _) in source.parameters { try resolve(name, chain: []) }
        parameters = names.parameterValues

        func constant(_ definition: Definition, key: String) throws(ProblemError) -> Double {
            switch definition {
            case .number(let x):
                guard x.isFinite else { throw source.error(key, "must be a finite number, got \(x)") }
                return x
            case .expression(let text):
                let value = names.bind(try names.parse(text, key: key, allowed: names.parameterSlots, context: .constant))
                    .constantValue!
                guard value.isFinite else { throw source.error(key, "evaluates to \(value)") }
                return value
            }
        }

        // Initial state, time span, sampling box.
        let v = source.variables
        initial = try v.indices.map { i throws(ProblemError) in try constant(source.initial[i], key: "initial.\(v[i])") }
        let start = try constant(source.time.start, key: "time.start")
        let end = try constant(source.time.end, key: "time.end")
        let step = try constant(source.time.step, key: "time.step")
        guard step > 0 else { throw source.error("time.step", "step must be positive, got \(step)") }
        guard end > start else {
            throw source.error("time.end", "end (\(end)) must be greater than start (\(start))")
        }
        if case .failure(let limit) = Limits.outputRowCount(start: start, end: end, step: step) {
            throw source.error("time.step", limit.description)
        }
        time = TimeSpan(start: start, end: end, step: step)
        if let box = source.sampling {
            var ranges: [ClosedRange<Double>] = []
            for (i, (lo, hi)) in box.enumerated() {
                let key = "sampling.\(v[i])"
                let a = try constant(lo, key: key), b = try constant(hi, key: key)
                guard a <= b else { throw source.error(key, "range [\(a), \(b)] has lo > hi") }
                ranges.append(a...b)
            }
            sampling = ranges
        } else {
            sampling = nil
        }
        transient = try source.transient.map { t throws(ProblemError) in try constant(t, key: "sampling.transient") } ?? 0
        guard transient >= 0 else { throw source.error("sampling.transient", "transient must be ≥ 0, got \(transient)") }

        // Equations and invariants: in t, the variables and the parameters.
        let d = v.count
        var equations: [Node] = []
        for i in 0..<d {
            switch source.equations[i] {
            case .number(let x):
                guard x.isFinite else { throw source.error("equations.\(v[i])", "must be a finite number, got \(x)") }
                equations.append(.constant(x))
            case .expression(let text):
                let key = "equations.\(v[i])"
                equations.append(names.bind(try names.parse(text, key: key, allowed: names.fieldSlots, context: .equation)))
            }
        }
        vectorField = VectorField(equations: equations, variables: v, texts: [])
        let fieldSlots = v + ["t"]
        invariants = try source.invariants.map { item throws(ProblemError) in
            let key = "invariants.\(item.name)"
            let node = names.bind(try names.parse(item.text, key: key, allowed: names.fieldSlots, context: .invariant))
            return (item.name, Expression(node: node, slots: fieldSlots, text: item.text))
        }

        // Exact solution: in t, t_0, the parameters and the initial values x_0, …; slots x_0, …, t_0, t.
        if let texts = source.exact {
            let exactSlots = v.map { $0 + "_0" } + ["t_0", "t"]
            exact = try v.indices.map { i throws(ProblemError) in
                let key = "exact.\(v[i])"
                let node = try names.parse(texts[i], key: key, allowed: names.exactSlots, context: .exact)
                let remapped = node.substituting { slot in
                    if let x = names.parameterValue(slot) { return .constant(x) }
                    if slot == d { return .slot(d + 1) }                    // t
                    if slot == names.universe.count - 1 { return .slot(d) } // t_0
                    return .slot(slot - names.firstZero)                    // x_0, …
                }
                return Expression(node: remapped, slots: exactSlots, text: texts[i])
            }
        } else {
            exact = nil
        }
    }
}

/// The names an expression in a problem file may use, by slot: variables `0..<d`, `t` at `d`, the parameters,
/// the initial values `x_0, …` and last `t_0`.
private struct Names {
    enum Context {
        case constant, equation, invariant, exact
        var rule: String {
            switch self {
            case .constant: "only numbers, pi, e and parameters may appear here"
            case .equation: "an equation may use t, the variables and the parameters"
            case .invariant: "an invariant may use t, the variables and the parameters"
            case .exact: "an exact solution may use t, t_0, the parameters and the initial values <variable>_0"
            }
        }
    }

    let source: ProblemSource
    let universe: [String]
    let d: Int
    let firstParameter: Int
    let firstZero: Int
    let parameterSlots: Set<Int>
    let fieldSlots: Set<Int>
    let exactSlots: Set<Int>
    var parameterValues: [String: Double] = [:]
    /// Slot of each name (the first of equal names).
    let slotIndex: [String: Int]

    init(_ source: ProblemSource) {
        self.source = source
        let v = source.variables
        d = v.count
        let parameterNames = source.parameters.map(\.name)
        universe = v + ["t"] + parameterNames + v.map { $0 + "_0" } + ["t_0"]
        firstParameter = d + 1
        firstZero = d + 1 + parameterNames.count
        parameterSlots = Set(firstParameter..<firstZero)
        fieldSlots = Set(0...d).union(parameterSlots)
        exactSlots = Set([d, universe.count - 1]).union(parameterSlots).union(firstZero..<(firstZero + d))
        var index: [String: Int] = [:]
        for (slot, name) in universe.enumerated() where index[name] == nil { index[name] = slot }
        slotIndex = index
    }

    func parameterValue(_ slot: Int) -> Double? {
        slot >= firstParameter && slot < firstZero ? parameterValues[universe[slot]] : nil
    }

    /// Replaces every parameter by its value and folds constants; other slots keep their index.
    func bind(_ node: Node) -> Node {
        node.substituting { slot in parameterValue(slot).map { .constant($0) } ?? .slot(slot) }
    }

    func parse(_ text: String, key: String, allowed: Set<Int>, context: Context) throws(ProblemError) -> Node {
        let node: Node, firstColumn: [Int: Int]
        do {
            (node, firstColumn) = try Parser.parse(text, slotIndex: slotIndex)
        } catch {
            throw source.error(key, error.message, column: error.column, hint: error.advice)
        }
        var used = Set<Int>()
        node.collectSlots(into: &used)
        // Report the disallowed name that comes first in the text.
        if let slot = used.subtracting(allowed).min(by: { firstColumn[$0] ?? 0 < firstColumn[$1] ?? 0 }) {
            throw source.error(key, "'\(universe[slot])' cannot be used here", column: firstColumn[slot],
                               hint: context.rule)
        }
        return node
    }
}
