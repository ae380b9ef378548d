// The expression tree: built by the parser, simplified, differentiated symbolically, then compiled to a Program.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The functions of the expression language. `sign` and `select` only arise in derivatives (of `abs`, `min`, `max`).
enum Function: String, CaseIterable, Sendable {
    case sin, cos, tan, asin, acos, atan, atan2, sinh, cosh, tanh, exp, log, sqrt, abs, pow, min, max
    /// sign(x) ∈ {−1, 0, 1}: the derivative of |x|.
    case sign
    /// select(a, b, p, q) = a ≤ b ? p : q: the derivative of min and max.
    case select

    /// Functions a problem file may call (the internal `sign` and `select` are left out).
    static let language: [Function] = allCases.filter { $0 != .sign && $0 != .select }

    var arity: Int {
        switch self {
        case .atan2, .pow, .min, .max: 2
        case .select: 4
        default: 1
        }
    }

    /// Applies the function to constant arguments (constant folding and the reference semantics of the Program).
    func apply(_ a: [Double]) -> Double {
        switch self {
        case .sin: Glibc_sin(a[0])
        case .cos: Glibc_cos(a[0])
        case .tan: Glibc_tan(a[0])
        case .asin: Glibc_asin(a[0])
        case .acos: Glibc_acos(a[0])
        case .atan: Glibc_atan(a[0])
        case .atan2: Glibc_atan2(a[0], a[1])
        case .sinh: Glibc_sinh(a[0])
        case .cosh: Glibc_cosh(a[0])
        case .tanh: Glibc_tanh(a[0])
        case .exp: Glibc_exp(a[0])
        case .log: Glibc_log(a[0])
        case .sqrt: a[0].squareRoot()
        case .abs: Swift.abs(a[0])
        case .pow: Glibc_pow(a[0], a[1])
        case .min: a[0] <= a[1] ? a[0] : a[1]
        case .max: a[0] >= a[1] ? a[0] : a[1]
        case .sign: a[0] > 0 ? 1 : (a[0] < 0 ? -1 : 0)
        case .select: a[0] <= a[1] ? a[2] : a[3]
        }
    }
}

// The C library's functions under names that do not clash with `Function`'s cases.
@inline(__always) func Glibc_sin(_ x: Double) -> Double { sin(x) }
@inline(__always) func Glibc_cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func Glibc_tan(_ x: Double) -> Double { tan(x) }
@inline(__always) func Glibc_asin(_ x: Double) -> Double { asin(x) }
@inline(__always) func Glibc_acos(_ x: Double) -> Double { acos(x) }
@inline(__always) func Glibc_atan(_ x: Double) -> Double { atan(x) }
@inline(__always) func Glibc_atan2(_ y: Double, _ x: Double) -> Double { atan2(y, x) }
@inline(__always) func Glibc_sinh(_ x: Double) -> Double { sinh(x) }
@inline(__always) func Glibc_cosh(_ x: Double) -> Double { cosh(x) }
@inline(__always) func Glibc_tanh(_ x: Double) -> Double { tanh(x) }
@inline(__always) func Glibc_exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func Glibc_log(_ x: Double) -> Double { log(x) }
@inline(__always) func Glibc_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }

enum BinaryOperator: Character, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", power = "^"

    func apply(_ a: Double, _ b: Double) -> Double {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .power: Glibc_pow(a, b)
        }
    }

    var precedence: Int {
        switch self {
        case .add, .subtract: 1
        case .multiply, .divide: 2
        case .power: 4
        }
    }
}

/// An expression tree over numbered slots.
indirect enum Node: Sendable, Hashable {
    case constant(Double)
    case slot(Int)
    case negate(Node)
    case binary(BinaryOperator, Node, Node)
    case call(Function, [Node])

    var constantValue: Double? { if case .constant(let c) = self { c } else { nil } }

    /// Every slot index the tree reads.
    func collectSlots(into set: inout Set<Int>) {
        switch self {
        case .constant: break
        case .slot(let i): set.insert(i)
        case .negate(let a): a.collectSlots(into: &set)
        case .binary(_, let a, let b): a.collectSlots(into: &set); b.collectSlots(into: &set)
        case .call(_, let args): for a in args { a.collectSlots(into: &set) }
        }
    }

    /// Replaces each slot by `replacement(index)`, then simplifies.
    func substituting(_ replacement: (Int) -> Node) -> Node {
        switch self {
        case .constant: self
        case .slot(let i): replacement(i)
        case .negate(let a): .negated(a.substituting(replacement))
        case .binary(let op, let a, let b): .make(op, a.substituting(replacement), b.substituting(replacement))
        case .call(let f, let args): .make(f, args.map { $0.substituting(replacement) })
        }
    }

    /// Evaluates the tree directly (slow path: constant folding, tests).
    func value(_ slots: [Double]) -> Double {
        switch self {
        case .constant(let c): c
        case .slot(let i): slots[i]
        case .negate(let a): -a.value(slots)
        case .binary(let op, let a, let b): op.apply(a.value(slots), b.value(slots))
        case .call(let f, let args): f.apply(args.map { $0.value(slots) })
        }
    }
}

// MARK: Simplifying constructors (constant folding, 0 and 1 rules)

extension Node {
    static func negated(_ a: Node) -> Node {
        switch a {
        case .constant(let c): return .constant(-c)
        case .negate(let inner): return inner
        default: return .negate(a)
        }
    }

    static func make(_ op: BinaryOperator, _ a: Node, _ b: Node) -> Node {
        if let x = a.constantValue, let y = b.constantValue { return .constant(op.apply(x, y)) }
        switch op {
        case .add:
            if a.constantValue == 0 { return b }
            if b.constantValue == 0 { return a }
            if case .negate(let nb) = b { return make(.subtract, a, nb) }
            if case .negate(let na) = a { return make(.subtract, b, na) }
        case .subtract:
            if b.constantValue == 0 { return a }
            if a.constantValue == 0 { return negated(b) }
            if case .negate(let nb) = b { return make(.add, a, nb) }
            if a == b { return .constant(0) }
        case .multiply:
            if a.constantValue == 0 || b.constantValue == 0 { return .constant(0) }
            if a.constantValue == 1 { return b }
            if b.constantValue == 1 { return a }
            if a.constantValue == -1 { return negated(b) }
            if b.constantValue == -1 { return negated(a) }
            if case .negate(let na) = a { return negated(make(.multiply, na, b)) }
            if case .negate(let nb) = b { return negated(make(.multiply, a, nb)) }
            // Constants to the left, and c1 * (c2 * x) = (c1 c2) * x.
            if b.constantValue != nil { return make(.multiply, b, a) }
            if let c1 = a.constantValue, case .binary(.multiply, let inner, let x) = b, let c2 = inner.constantValue {
                return make(.multiply, .constant(c1 * c2), x)
            }
        case .divide:
            if a.constantValue == 0 { return .constant(0) }
            if b.constantValue == 1 { return a }
            if b.constantValue == -1 { return negated(a) }
            if case .negate(let na) = a { return negated(make(.divide, na, b)) }
        case .power:
            if b.constantValue == 0 { return .constant(1) }
            if b.constantValue == 1 { return a }
            if a.constantValue == 1 { return .constant(1) }
        }
        return .binary(op, a, b)
    }

    static func make(_ f: Function, _ args: [Node]) -> Node {
        if args.allSatisfy({ $0.constantValue != nil }) {
            return .constant(f.apply(args.map { $0.constantValue! }))
        }
        switch f {
        case .pow: return make(.power, args[0], args[1])
        case .select where args[2] == args[3]: return args[2]
        default: return .call(f, args)
        }
    }
}

// MARK: Symbolic derivative

extension Node {
    /// ∂(self)/∂(slot `index`), simplified.
    func derivative(_ index: Int) -> Node {
        switch self {
        case .constant: return .constant(0)
        case .slot(let i): return .constant(i == index ? 1 : 0)
        case .negate(let a): return .negated(a.derivative(index))
        case .binary(let op, let u, let v):
            let du = u.derivative(index), dv = v.derivative(index)
            switch op {
            case .add: return .make(.add, du, dv)
            case .subtract: return .make(.subtract, du, dv)
            case .multiply:  // (uv)' = u'v + uv'
                return .make(.add, .make(.multiply, du, v), .make(.multiply, u, dv))
            case .divide:  // (u/v)' = u'/v − u v'/v²
                if dv.constantValue == 0 { return .make(.divide, du, v) }
                return .make(.subtract, .make(.divide, du, v),
                             .make(.divide, .make(.multiply, u, dv), .make(.power, v, .constant(2))))
            case .power:
                return Node.powerDerivative(u, v, du, dv)
            }
        case .call(let f, let args):
            let a = args[0], da = a.derivative(index)
            func chain(_ outer: Node) -> Node { .make(.multiply, outer, da) }
            switch f {
            case .sin: return chain(.make(.cos, [a]))
            case .cos: return chain(.negated(.make(.sin, [a])))
            case .tan:  // 1 + tan²
                return chain(.make(.add, .constant(1), .make(.power, .make(.tan, [a]), .constant(2))))
            case .asin:  // 1/√(1−a²)
                return .make(.divide, da, .make(.sqrt, [.make(.subtract, .constant(1), .make(.power, a, .constant(2)))]))
            case .acos:
                return .negated(.make(.divide, da,
                                      .make(.sqrt, [.make(.subtract, .constant(1), .make(.power, a, .constant(2)))])))
            case .atan:
                return .make(.divide, da, .make(.add, .constant(1), .make(.power, a, .constant(2))))
            case .atan2:  // atan2(y, x)' = (x y' − y x')/(x² + y²)
                let y = a, x = args[1], dy = da, dx = x.derivative(index)
                let r2 = Node.make(.add, .make(.power, x, .constant(2)), .make(.power, y, .constant(2)))
                return .make(.divide, .make(.subtract, .make(.multiply, x, dy), .make(.multiply, y, dx)), r2)
            case .sinh: return chain(.make(.cosh, [a]))
            case .cosh: return chain(.make(.sinh, [a]))
            case .tanh:  // 1 − tanh²
                return chain(.make(.subtract, .constant(1), .make(.power, .make(.tanh, [a]), .constant(2))))
            case .exp: return chain(self)
            case .log: return .make(.divide, da, a)
            case .sqrt: return .make(.divide, da, .make(.multiply, .constant(2), self))
            case .abs: return chain(.make(.sign, [a]))
            case .pow: return Node.powerDerivative(a, args[1], da, args[1].derivative(index))
            case .min:  // piecewise: the derivative of the selected argument
                return .make(.select, [a, args[1], da, args[1].derivative(index)])
            case .max:
                return .make(.select, [args[1], a, da, args[1].derivative(index)])
            case .sign: return .constant(0)
            case .select:
                return .make(.select, [a, args[1], args[2].derivative(index), args[3].derivative(index)])
            }
        }
    }

    /// (u^v)' = v u^(v−1) u' for constant v, else u^v (v' log u + v u'/u).
    private static func powerDerivative(_ u: Node, _ v: Node, _ du: Node, _ dv: Node) -> Node {
        if dv.constantValue == 0 {
            if du.constantValue == 0 { return .constant(0) }
            let reduced: Node = v.constantValue.map { Node.constant($0 - 1) } ?? .make(.subtract, v, .constant(1))
            return .make(.multiply, .make(.multiply, v, .make(.power, u, reduced)), du)
        }
        let uv = Node.make(.power, u, v)
        if du.constantValue == 0 { return .make(.multiply, uv, .make(.multiply, dv, .make(.log, [u]))) }
        return .make(.multiply, uv, .make(.add, .make(.multiply, dv, .make(.log, [u])),
                                          .make(.divide, .make(.multiply, v, du), u)))
    }
}

// MARK: Rendering

extension Node {
    /// Source-like text with the fewest parentheses that keep the meaning.
    func rendered(_ names: [String]) -> String { render(names, parent: 0, rightOfPower: false) }

    private func render(_ names: [String], parent: Int, rightOfPower: Bool) -> String {
        switch self {
        case .constant(let c):
            let text = Node.format(c)
            return c < 0 && parent > 0 ? "(\(text))" : text
        case .slot(let i): return i < names.count ? names[i] : "$\(i)"
        case .negate(let a):
            let text = "-" + a.render(names, parent: 3, rightOfPower: false)
            return parent >= 2 && !rightOfPower ? "(\(text))" : text
        case .binary(let op, let a, let b):
            let p = op.precedence
            let left: String, right: String
            if op == .power {
                left = a.render(names, parent: p + 1, rightOfPower: false)
                right = b.render(names, parent: p, rightOfPower: true)
            } else {
                left = a.render(names, parent: p, rightOfPower: false)
                right = b.render(names, parent: p + 1, rightOfPower: false)
            }
            let text = "\(left) \(op.rawValue) \(right)"
            return p < parent ? "(\(text))" : text
        case .call(let f, let args):
            return "\(f.rawValue)(" + args.map { $0.render(names, parent: 0, rightOfPower: false) }.joined(separator: ", ") + ")"
        }
    }

    static func format(_ c: Double) -> String {
        if c == c.rounded(), abs(c) < 1e15 { return String(Int64(c)) }
        return "\(c)"
    }
}

// MARK: The graph of distinct subexpressions

/// The distinct subexpressions of a set of trees, each once, children before parents: the graph that code
/// generation walks. Equal subtrees (within one tree or across trees) become one item, found by hashing a flat key
/// (the operator and the children's item numbers) rather than whole subtrees. A subtree shared by reference (a
/// derivative reuses the subtrees of the expression it came from: d sin(u) = cos(u)·u') is recognised by the bits of
/// the reference and walked once, so the cost is linear in the size of the graph, not of the tree it expands to.
/// Recursion follows the trees, whose depth the parser bounds.
struct ExpressionGraph {
    enum Item: Equatable {
        case constant(Double)
        case slot(Int)
        case negate(Int)
        case binary(BinaryOperator, Int, Int)
        case call(Function, [Int])

        var isLeaf: Bool {
            switch self {
            case .constant, .slot: true
            default: false
            }
        }
    }

    /// The items, children before parents.
    private(set) var items: [Item] = []
    /// Uses of each item: once per distinct parent, plus once per root it is.
    private(set) var uses: [Int] = []
    private var index: [Key: Int] = [:]
    /// Item of each node seen, by the bits of its reference; `retained` keeps those nodes (so their bits) alive.
    private var seen: [UInt: Int] = [:]
    private var retained: [Node] = []
    /// An indirect enum is one reference wide: equal bits are the same box, hence the same immutable subtree.
    private static let nodesAreReferences = MemoryLayout<Node>.size == MemoryLayout<UInt>.size

    private struct Key: Hashable {
        var tag: UInt8
        var op: BinaryOperator? = nil
        var function: Function? = nil
        var bits: UInt64 = 0
        var children: (Int32, Int32, Int32, Int32) = (-1, -1, -1, -1)

        static func == (a: Key, b: Key) -> Bool {
            a.tag == b.tag && a.op == b.op && a.function == b.function && a.bits == b.bits
                && a.children.0 == b.children.0 && a.children.1 == b.children.1
                && a.children.2 == b.children.2 && a.children.3 == b.children.3
        }
        func hash(into hasher: inout Hasher) {
            hasher.combine(tag); hasher.combine(op); hasher.combine(function); hasher.combine(bits)
            hasher.combine(children.0); hasher.combine(children.1); hasher.combine(children.2); hasher.combine(children.3)
        }
    }

    /// Adds `node` as a root; returns its item.
    mutating func add(_ node: Node) -> Int {
        let id = intern(node)
        uses[id] += 1
        return id
    }

    /// The operands of item `id`.
    func children(_ id: Int) -> [Int] {
        switch items[id] {
        case .constant, .slot: []
        case .negate(let a): [a]
        case .binary(_, let a, let b): [a, b]
        case .call(_, let args): args
        }
    }

    /// The constant value of item `id`, if it is a constant.
    func constant(_ id: Int) -> Double? {
        if case .constant(let c) = items[id] { c } else { nil }
    }

    private mutating func intern(_ node: Node) -> Int {
        var reference: UInt = 0
        if Self.nodesAreReferences {
            reference = withUnsafeBytes(of: node) { $0.load(as: UInt.self) }
            if let known = seen[reference] { return known }
        }
        let id = internStructure(node)
        if Self.nodesAreReferences {
            seen[reference] = id
            retained.append(node)
        }
        return id
    }

    private mutating func internStructure(_ node: Node) -> Int {
        let item: Item, key: Key
        switch node {
        case .constant(let c):
            item = .constant(c); key = Key(tag: 0, bits: c.bitPattern)
        case .slot(let i):
            item = .slot(i); key = Key(tag: 1, bits: UInt64(i))
        case .negate(let a):
            let x = intern(a)
            item = .negate(x); key = Key(tag: 2, children: (Int32(x), -1, -1, -1))
        case .binary(let op, let a, let b):
            let x = intern(a), y = intern(b)
            item = .binary(op, x, y); key = Key(tag: 3, op: op, children: (Int32(x), Int32(y), -1, -1))
        case .call(let f, let args):
            precondition(args.count <= 4, "functions take at most 4 arguments")
            let ids = args.map { intern($0) }
            func child(_ k: Int) -> Int32 { k < ids.count ? Int32(ids[k]) : -1 }
            item = .call(f, ids); key = Key(tag: 4, function: f, children: (child(0), child(1), child(2), child(3)))
        }
        if let existing = index[key] { return existing }
        let id = items.count
        items.append(item)
        uses.append(0)
        index[key] = id
        switch item {
        case .negate(let x): uses[x] += 1
        case .binary(_, let x, let y): uses[x] += 1; uses[y] += 1
        case .call(_, let ids): for x in ids { uses[x] += 1 }
        default: break
        }
        return id
    }
}
