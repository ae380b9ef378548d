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
    let periods: [Double?]
    let forcingPeriod: Double?
    let vectorField: VectorField
    let invariants: [(name: String, expression: Expression)]
    let exact: [Expression]?
    /// Names of the state components: a scalar's name, an array's `x[0]`, `x[1]`, ….
    let componentNames: [String]
    let arrayVariables: [ArrayVariable]

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

        // The state vector: each variable's components, arrays site by site.
        let v = source.variables
        let d = v.count
        var offsets: [Int] = [], componentNames: [String] = [], arrays: [ArrayVariable?] = []
        for k in 0..<d {
            offsets.append(componentNames.count)
            if let n = source.sizes[k] {
                let array = ArrayVariable(name: v[k], offset: componentNames.count, count: n, boundary: source.boundaries[k]!)
                arrays.append(array)
                componentNames += array.componentNames
            } else {
                arrays.append(nil)
                componentNames.append(v[k])
            }
        }
        let dimension = componentNames.count
        self.componentNames = componentNames
        arrayVariables = arrays.compactMap { $0 }

        /// A per-site expression with `i` bound to each site in turn, folded to a number.
        func atSites(_ node: Node, count n: Int, key: String) throws(ProblemError) -> [Double] {
            var values: [Double] = []
            for site in 0..<n {
                let value = node.substituting { $0 == names.site ? .constant(Double(site)) : .slot($0) }.constantValue!
                guard value.isFinite else { throw source.error(key, "evaluates to \(value) at site i = \(site)") }
                values.append(value)
            }
            return values
        }

        // Initial state, time span, sampling box.
        var initial: [Double] = []
        for k in 0..<d {
            let key = "initial.\(v[k])"
            guard let array = arrays[k] else {
                initial.append(try constant(source.initial[k], key: key))
                continue
            }
            if let list = source.initialLists[k] {
                for value in list { initial.append(try constant(value, key: key)) }
            } else if case .expression(let text) = source.initial[k] {
                let node = names.bind(try names.parse(text, key: key, allowed: names.parameterSlots.union([names.site]),
                                                      context: .siteConstant))
                initial += try atSites(node, count: array.count, key: key)
            } else {
                initial += [Double](repeating: try constant(source.initial[k], key: key), count: array.count)
            }
        }
        self.initial = initial
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
            for (k, (lo, hi)) in box.enumerated() {
                let key = "sampling.\(v[k])"
                let a = try constant(lo, key: key), b = try constant(hi, key: key)
                guard a <= b else { throw source.error(key, "range [\(a), \(b)] has lo > hi") }
                ranges += [ClosedRange<Double>](repeating: a...b, count: arrays[k]?.count ?? 1)
            }
            sampling = ranges
        } else {
            sampling = nil
        }
        transient = try source.transient.map { t throws(ProblemError) in try constant(t, key: "sampling.transient") } ?? 0
        guard transient >= 0 else { throw source.error("sampling.transient", "transient must be ≥ 0, got \(transient)") }
        var periods: [Double?] = []
        for (k, definition) in source.periods.enumerated() {
            let key = "periodic.\(v[k])"
            let period = try definition.map { p throws(ProblemError) in try constant(p, key: key) }
            if let period, !(period > 0) {
                throw source.error(key, "period must be positive, got \(period)", hint: "an angle in radians has period \"2 * pi\"")
            }
            periods += [Double?](repeating: period, count: arrays[k]?.count ?? 1)
        }
        self.periods = periods
        forcingPeriod = try source.forcingPeriod.map { p throws(ProblemError) in try constant(p, key: "forcing.period") }
        if let period = forcingPeriod, !(period > 0) {
            throw source.error("forcing.period", "period must be positive, got \(period)")
        }

        /// The state component of element `k` of array `read.array`, checked against its size.
        func element(_ k: Int, _ read: ArrayRead, key: String) throws(ProblemError) -> Int {
            let array = arrays[read.array]!
            guard k >= 0 && k < array.count else {
                throw source.error(key, "\(array.name)[\(k)] is outside \(array.name)[0] … \(array.name)[\(array.count - 1)]",
                                   column: read.column, hint: "an array of \(array.count) sites")
            }
            return array.offset + k
        }
        /// A tree over the universe (parameters bound) rewritten over the state: slots `0..<dimension` and t.
        func global(_ node: Node, reads: [ArrayRead], key: String) throws(ProblemError) -> Node {
            var replacement: [Int: Node] = [:]
            for (r, read) in reads.enumerated() {
                let array = arrays[read.array]!
                let slots = (array.offset..<(array.offset + array.count)).map { Node.slot($0) }
                switch read.kind {
                case .element(let k): replacement[names.firstRead + r] = .slot(try element(k, read, key: key))
                case .sum: replacement[names.firstRead + r] = Node.balancedSum(slots)
                case .mean: replacement[names.firstRead + r] = .make(.divide, Node.balancedSum(slots), .constant(Double(array.count)))
                case .relative:
                    throw source.error(key, "\(array.name)[i…] reads relative to a site, but this expression has none",
                                       column: read.column, hint: "read one element as \(array.name)[k], or all with sum(\(array.name))")
                }
            }
            return node.substituting { slot in
                if let node = replacement[slot] { return node }
                if slot == d { return .slot(dimension) }
                precondition(slot < d && arrays[slot] == nil, "slot \(slot) left in a state expression")
                return .slot(offsets[slot])
            }
        }

        // Equations: in t, the variables and the parameters; an array's equation per site i.
        var scalarEquations: [(index: Int, node: Node)] = []
        var siteEquations: [SiteEquation] = []
        for k in 0..<d {
            let key = "equations.\(v[k])"
            var node: Node, reads: [ArrayRead] = []
            switch source.equations[k] {
            case .number(let x):
                guard x.isFinite else { throw source.error(key, "must be a finite number, got \(x)") }
                node = .constant(x)
            case .expression(let text):
                let allowed = arrays[k] == nil ? names.fieldSlots : names.fieldSlots.union([names.site])
                let parsed = try names.parseReading(text, key: key, allowed: allowed, context: .equation)
                node = names.bind(parsed.node)
                reads = parsed.reads
            }
            for read in reads where read.kind == .sum || read.kind == .mean {
                throw source.error(key, "sum(…) and mean(…) may appear in invariants only", column: read.column,
                                   hint: "an equation reads single sites: x[i], x[i+1], x[0]")
            }
            guard let target = arrays[k] else {
                scalarEquations.append((offsets[k], try global(node, reads: reads, key: key)))
                continue
            }
            // Local slots: the values the site reads, in slot order, then t.
            var used = Set<Int>()
            node.collectSlots(into: &used)
            var sources: [SiteEquation.Source] = []
            var local: [Int: Int] = [:]
            for slot in used.sorted() where slot != d {
                let origin: SiteEquation.Source
                if slot == names.site {
                    origin = .site
                } else if slot >= names.firstRead {
                    let read = reads[slot - names.firstRead]
                    let array = arrays[read.array]!
                    switch read.kind {
                    case .relative(let shift):
                        guard array.count == target.count else {
                            throw source.error(key, "\(array.name)[i…] in the equation of \(target.name): \(array.name) has \(array.count) sites and \(target.name) \(target.count)",
                                               column: read.column, hint: "a site reads the neighbours of arrays of its own size; read other arrays as \(array.name)[k]")
                        }
                        guard abs(shift) < array.count else {
                            let written = "\(array.name)[i\(shift < 0 ? "-" : "+")\(abs(shift))]"
                            let range = "\(array.name)[0] … \(array.name)[\(array.count - 1)]"
                            let message = array.boundary == .zero
                                ? "\(written) reads \(array.name)[\(shift)] at site i = 0 and outside \(range) at every site, where the zero boundary gives 0"
                                : "\(written) reads \(array.name)[\(shift)] at site i = 0, which wraps around \(range) more than once"
                            throw source.error(key, message, column: read.column,
                                               hint: "a stencil offset must be smaller than the \(array.count) sites of \(array.name)")
                        }
                        origin = .neighbour(array, shift: shift)
                    case .element(let j):
                        origin = .component(try element(j, read, key: key))
                    case .sum, .mean:
                        preconditionFailure("refused above")
                    }
                } else {
                    origin = .component(offsets[slot])
                }
                local[slot] = sources.count
                sources.append(origin)
            }
            let m = sources.count
            let localNode = node.substituting { slot in .slot(slot == d ? m : local[slot]!) }
            siteEquations.append(SiteEquation(target: target, node: localNode, sources: sources))
        }
        vectorField = VectorField(scalarEquations: scalarEquations, sites: siteEquations, names: componentNames)
        let fieldSlots = componentNames + ["t"]
        invariants = try source.invariants.map { item throws(ProblemError) in
            let key = "invariants.\(item.name)"
            let parsed = try names.parseReading(item.text, key: key, allowed: names.fieldSlots, context: .invariant)
            let node = try global(names.bind(parsed.node), reads: parsed.reads, key: key)
            return (item.name, Expression(node: node, slots: fieldSlots, text: item.text))
        }

        // Exact solution: in t, t_0, the parameters and the initial values x_0, … of scalar variables; an array's
        // per site i. Slots: the initial state (all components), t_0, t.
        if let texts = source.exact {
            let exactSlots = (0..<d).flatMap { k in
                arrays[k].map { a in (0..<a.count).map { "\(a.name)_0[\($0)]" } } ?? [v[k] + "_0"]
            } + ["t_0", "t"]
            var expressions: [Expression] = []
            for k in 0..<d {
                let key = "exact.\(v[k])"
                var allowed = names.exactSlots
                if arrays[k] != nil { allowed.insert(names.site) }
                let node = try names.parse(texts[k], key: key, allowed: allowed, context: .exact)
                let remapped = names.bind(node).substituting { slot in
                    if slot == d { return .slot(dimension + 1) }            // t
                    if slot == names.t0 { return .slot(dimension) }         // t_0
                    if slot == names.site { return .slot(-1) }              // i, bound per site below
                    return .slot(offsets[slot - names.firstZero])           // x_0, …
                }
                for site in 0..<(arrays[k]?.count ?? 1) {
                    let bound = remapped.substituting { $0 == -1 ? .constant(Double(site)) : .slot($0) }
                    expressions.append(Expression(node: bound, slots: exactSlots, text: arrays[k] == nil ? texts[k] : nil))
                }
            }
            exact = expressions
        } else {
            exact = nil
        }
    }
}

extension Node {
    /// t0 + t1 + … added pairwise (depth log2 n).
    static func balancedSum(_ terms: [Node]) -> Node {
        precondition(!terms.isEmpty)
        if terms.count == 1 { return terms[0] }
        let middle = terms.count / 2
        return .make(.add, balancedSum(Array(terms[..<middle])), balancedSum(Array(terms[middle...])))
    }
}

/// The names an expression in a problem file may use, by slot: variables `0..<d`, `t` at `d`, the parameters,
/// the initial values `x_0, …` and last `t_0`.
private struct Names {
    enum Context {
        case constant, siteConstant, equation, invariant, exact
        var rule: String {
            switch self {
            case .constant: "only numbers, pi, e and parameters may appear here"
            case .siteConstant: "an array's initial value may use the site index i, numbers and parameters"
            case .equation: "an equation may use t, the variables and the parameters"
            case .invariant: "an invariant may use t, the variables and the parameters"
            case .exact: "an exact solution may use t, t_0, the parameters and the initial values <variable>_0"
            }
        }

        /// The rule in a problem with arrays: `i` (and, for exact solutions, no initial values of arrays).
        var arrayRule: String {
            switch self {
            case .exact: "an exact solution may use t, t_0, the parameters, the initial values <variable>_0 of scalar variables and, for an array, the site index i"
            case .equation: "an equation may use t, the variables and the parameters, and an array's equation the site index i"
            default: rule
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
    /// Slot of t_0.
    let t0: Int
    /// Slot of the site index `i` (a problem with arrays has the name), then the sizes `n_x` of the arrays.
    let site: Int
    /// The size of each array by the slot of its `n_x`.
    let sizes: [Int: Double]
    /// Slot of the first array read (see `Parser.parse(_:slotIndex:arrays:)`).
    let firstRead: Int
    /// Slots of the array variables' names.
    let arrayNames: Set<Int>

    init(_ source: ProblemSource) {
        self.source = source
        let v = source.variables
        d = v.count
        let parameterNames = source.parameters.map(\.name)
        let arrayIndices = v.indices.filter { source.sizes[$0] != nil }
        universe = v + ["t"] + parameterNames + v.map { $0 + "_0" } + ["t_0"]
            + (arrayIndices.isEmpty ? [] : ["i"] + arrayIndices.map { "n_" + v[$0] })
        firstParameter = d + 1
        firstZero = d + 1 + parameterNames.count
        t0 = firstZero + d
        site = t0 + 1
        var sizes: [Int: Double] = [:]
        for (position, k) in arrayIndices.enumerated() { sizes[site + 1 + position] = Double(source.sizes[k]!) }
        self.sizes = sizes
        firstRead = universe.count
        arrayNames = Set(arrayIndices)
        // The sizes n_x may appear wherever parameters may.
        parameterSlots = Set(firstParameter..<firstZero).union(sizes.keys)
        fieldSlots = Set(0...d).union(parameterSlots)
        let zero = firstZero
        exactSlots = Set([d, t0]).union(parameterSlots).union((0..<d).filter { source.sizes[$0] == nil }.map { zero + $0 })
        var index: [String: Int] = [:]
        for (slot, name) in universe.enumerated() where index[name] == nil { index[name] = slot }
        slotIndex = index
    }

    func parameterValue(_ slot: Int) -> Double? {
        slot >= firstParameter && slot < firstZero ? parameterValues[universe[slot]] : sizes[slot]
    }

    /// Parses an expression that may read the array variables (`x[i+1]`, `x[0]`, `sum(x)`); reads are slots from
    /// `firstRead` on.
    func parseReading(_ text: String, key: String, allowed: Set<Int>, readsAllowed: Bool = true,
                      context: Context) throws(ProblemError) -> (node: Node, reads: [ArrayRead]) {
        let arrays = arrayNames.isEmpty ? nil : ArrayNames(names: arrayNames, site: site, firstRead: firstRead)
        let parsed: (node: Node, firstColumn: [Int: Int], reads: [ArrayRead])
        do {
            parsed = try Parser.parse(text, slotIndex: slotIndex, arrays: arrays)
        } catch {
            throw source.error(key, error.message, column: error.column, hint: error.advice)
        }
        let reads = readsAllowed ? Set(firstRead..<(firstRead + parsed.reads.count)) : []
        try check(parsed.node, firstColumn: parsed.firstColumn, reads: parsed.reads, allowed: allowed.union(reads),
                  key: key, context: context)
        return (parsed.node, parsed.reads)
    }

    /// Replaces every parameter by its value and folds constants; other slots keep their index.
    func bind(_ node: Node) -> Node {
        node.substituting { slot in parameterValue(slot).map { .constant($0) } ?? .slot(slot) }
    }

    /// Parses an expression that reads no array element (an array's name or element is refused where it is).
    func parse(_ text: String, key: String, allowed: Set<Int>, context: Context) throws(ProblemError) -> Node {
        try parseReading(text, key: key, allowed: allowed, readsAllowed: false, context: context).node
    }

    /// Refuses the first name in the text that `allowed` does not hold.
    func check(_ node: Node, firstColumn: [Int: Int], reads: [ArrayRead], allowed: Set<Int>, key: String,
               context: Context) throws(ProblemError) {
        var used = Set<Int>()
        node.collectSlots(into: &used)
        // Report the disallowed name that comes first in the text.
        if let slot = used.subtracting(allowed).min(by: { firstColumn[$0] ?? 0 < firstColumn[$1] ?? 0 }) {
            let name = slot < firstRead ? universe[slot] : universe[reads[slot - firstRead].array]
            throw source.error(key, "'\(name)' cannot be used here", column: firstColumn[slot],
                               hint: arrayNames.isEmpty ? context.rule : context.arrayRule)
        }
    }
}
