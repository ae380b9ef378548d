// Lexer and recursive-descent parser of the expression language; errors carry the 1-based column.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Token: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case name(String)
        case symbol(Character)  // + - * / ^ ( ) , [ ]
        case end
    }
    var kind: Kind
    /// 1-based column of the token's first character.
    var column: Int
    /// The token as written.
    var text: String
}

enum Lexer {
    static func tokens(_ text: String) throws(ExpressionError) -> [Token] {
        let chars = Array(text)
        var tokens: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            let start = i
            if c.isASCII && (c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber)) {
                while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
                if i < chars.count, chars[i] == "." {
                    i += 1
                    while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
                }
                // An exponent only when digits follow: `2e` stays 2 followed by the name e.
                if i < chars.count, chars[i] == "e" || chars[i] == "E" {
                    var j = i + 1
                    if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
                    if j < chars.count, chars[j].isASCII, chars[j].isNumber {
                        while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                        i = j
                    }
                }
                let literal = String(chars[start..<i])
                guard let value = Double(literal) else {
                    throw ExpressionError(message: "malformed number '\(shortened(literal))'", column: start + 1)
                }
                guard value.isFinite else {
                    throw ExpressionError(message: "the number \(shortened(literal)) is too large for a double (at most 1.8e308)",
                                          column: start + 1)
                }
                tokens.append(Token(kind: .number(value), column: start + 1, text: literal))
            } else if c == "_" || (c.isASCII && c.isLetter) {
                while i < chars.count, chars[i] == "_" || (chars[i].isASCII && (chars[i].isLetter || chars[i].isNumber)) {
                    i += 1
                }
                let name = String(chars[start..<i])
                tokens.append(Token(kind: .name(name), column: start + 1, text: name))
            } else if "+-*/^(),[]".contains(c) {
                i += 1
                tokens.append(Token(kind: .symbol(c), column: start + 1, text: String(c)))
            } else {
                throw ExpressionError(message: "unexpected character '\(c)'", column: start + 1)
            }
        }
        tokens.append(Token(kind: .end, column: chars.count + 1, text: ""))
        return tokens
    }
}

/// Grammar (lowest to highest precedence):
///   sum     = product { ("+" | "-") product }
///   product = unary { ("*" | "/") unary }
///   unary   = { "-" | "+" } power
///   power   = primary [ "^" unary ]          (right-associative; `-x^2` = −(x²), `2^-1` = 0.5)
///   primary = number | name | name "(" sum { "," sum } ")" | "(" sum ")"
///
/// Limits (`Limits.expressionLength`, `Limits.expressionDepth`) are checked before the parser recurses: runs of
/// unary signs and chains of terms are read by loops, and only parentheses, calls and exponents recurse, each
/// counted against the depth limit. Long chains are grouped pairwise (`Limits.leftToRightTerms`), so the depth of
/// the tree, which bounds the recursion of every later pass, stays within the limit too.
struct Parser {
    /// A parsed subexpression and an upper bound of its tree depth (a leaf has depth 1).
    typealias Parsed = (node: Node, depth: Int)

    let tokens: [Token]
    let slots: [String: Int]
    var position = 0
    /// Column of the first use of each slot.
    var firstColumn: [Int: Int] = [:]
    /// Columns of the currently open parentheses, innermost last.
    var open: [Int] = []
    /// Parentheses, calls and exponents currently open: the parser's recursion depth.
    var nesting = 0
    /// The array variables, when the expression may read them.
    var arrays: ArrayNames? = nil
    /// The distinct array reads so far; read `r` is slot `arrays!.firstRead + r`.
    var reads: [ArrayRead] = []

    init(tokens: [Token], slots: [String: Int], arrays: ArrayNames? = nil) {
        self.tokens = tokens; self.slots = slots; self.arrays = arrays
    }

    static func parse(_ text: String, slots: [String]) throws(ExpressionError) -> (node: Node, firstColumn: [Int: Int]) {
        var index: [String: Int] = [:]
        for (i, name) in slots.enumerated() where index[name] == nil { index[name] = i }
        return try parse(text, slotIndex: index)
    }

    /// Parses `text` with names looked up in `slotIndex` (name → slot; the first of equal names wins).
    static func parse(_ text: String, slotIndex: [String: Int]) throws(ExpressionError) -> (node: Node, firstColumn: [Int: Int]) {
        let parsed = try parse(text, slotIndex: slotIndex, arrays: nil)
        return (parsed.node, parsed.firstColumn)
    }

    /// Parses `text` where the slots in `arrays.names` are array variables: read as `x[i+k]` (relative to the site
    /// index slot `arrays.site`), `x[k]` (one element) or `sum(x)`, `mean(x)`. Each distinct read becomes a slot
    /// `arrays.firstRead + r`, described by `reads[r]`.
    static func parse(_ text: String, slotIndex: [String: Int], arrays: ArrayNames?) throws(ExpressionError)
        -> (node: Node, firstColumn: [Int: Int], reads: [ArrayRead]) {
        let length = text.utf8.count
        guard length <= Limits.expressionLength else {
            throw ExpressionError(message: "the expression is \(length) characters long, more than the limit of \(Limits.expressionLength)",
                                  column: 1, hint: "split it with parameters, or shorten it")
        }
        var parser = Parser(tokens: try Lexer.tokens(text), slots: slotIndex, arrays: arrays)
        if parser.peek.kind == .end { throw ExpressionError(message: "empty expression", column: 1) }
        let node = try parser.sum().node
        let next = parser.peek
        if next.kind != .end {
            if next.kind == .symbol(")") {
                throw ExpressionError(message: "unbalanced parenthesis: ')' without '('", column: next.column)
            }
            throw ExpressionError(message: "unexpected '\(shortened(next.text))'", column: next.column,
                                  suggestion: nil, hint: "an operator is missing before it")
        }
        return (node, parser.firstColumn, parser.reads)
    }

    var peek: Token { tokens[position] }
    mutating func advance() -> Token { defer { position += 1 }; return tokens[position] }

    static func tooDeep(at column: Int) -> ExpressionError {
        ExpressionError(message: "the expression is nested more than \(Limits.expressionDepth) levels deep", column: column,
                        hint: "the limit counts parentheses, function calls, powers and long chains of terms")
    }

    /// Opens a parenthesis, call or exponent at `column`: one level of recursion, checked before it happens.
    mutating func enter(at column: Int) throws(ExpressionError) {
        nesting += 1
        guard nesting <= Limits.expressionDepth else { throw Parser.tooDeep(at: column) }
    }

    /// A node `depth` deep built at `column`, checked against the depth limit.
    func checked(_ parsed: Parsed, at column: Int) throws(ExpressionError) -> Parsed {
        guard parsed.depth <= Limits.expressionDepth else { throw Parser.tooDeep(at: column) }
        return parsed
    }

    mutating func sum() throws(ExpressionError) -> Parsed {
        let column = peek.column
        var terms: [Term] = [(.add, try product())]
        while case .symbol(let c) = peek.kind, c == "+" || c == "-" {
            _ = advance()
            terms.append((c == "+" ? .add : .subtract, try product()))
        }
        return try checked(Parser.chain(terms[...], inverse: .subtract), at: column)
    }

    mutating func product() throws(ExpressionError) -> Parsed {
        let column = peek.column
        var factors: [Term] = [(.multiply, try unary())]
        while case .symbol(let c) = peek.kind, c == "*" || c == "/" {
            _ = advance()
            factors.append((c == "*" ? .multiply : .divide, try unary()))
        }
        return try checked(Parser.chain(factors[...], inverse: .divide), at: column)
    }

    /// One term of a chain and the operator before it (the first term's is `+` or `*`).
    typealias Term = (op: BinaryOperator, operand: Parsed)

    /// The chain `t0 op1 t1 op2 t2 …` (the first operator is ignored): left to right when it has at most
    /// `Limits.leftToRightTerms` terms, else the two halves, each grouped the same way, combined by the operator
    /// that leads the second half; a half led by the inverse operator (`-`, `/`) is combined with the operators
    /// inside it swapped: `a - b + c` = `a - (b - c)`.
    static func chain(_ terms: ArraySlice<Term>, inverse: BinaryOperator) -> Parsed {
        let first = terms[terms.startIndex].operand
        if terms.count <= Limits.leftToRightTerms {
            var node = first.node, depth = first.depth
            for (op, operand) in terms.dropFirst() {
                node = .make(op, node, operand.node)
                depth = max(depth, operand.depth) + 1
            }
            return (node, depth)
        }
        let middle = terms.startIndex + terms.count / 2
        let left = chain(terms[..<middle], inverse: inverse)
        let lead = terms[middle].op
        var rest = terms[middle...]
        if lead == inverse {
            let direct: BinaryOperator = inverse == .subtract ? .add : .multiply
            rest = ArraySlice(rest.map { ($0.op == inverse ? direct : inverse, $0.operand) })
        }
        let right = chain(rest, inverse: inverse)
        return (.make(lead, left.node, right.node), max(left.depth, right.depth) + 1)
    }

    mutating func unary() throws(ExpressionError) -> Parsed {
        // A run of signs is read by a loop: `- - x` is x, and 100,000 signs cost no stack.
        var negative = false
        while case .symbol(let c) = peek.kind, c == "-" || c == "+" {
            _ = advance()
            if c == "-" { negative.toggle() }
        }
        let operand = try power()
        return negative ? (.negated(operand.node), operand.depth + 1) : operand
    }

    mutating func power() throws(ExpressionError) -> Parsed {
        let base = try primary()
        if peek.kind == .symbol("^") {
            let caret = advance()
            try enter(at: caret.column)
            let exponent = try unary()
            nesting -= 1
            return try checked((.make(.power, base.node, exponent.node), max(base.depth, exponent.depth) + 1), at: caret.column)
        }
        return base
    }

    mutating func primary() throws(ExpressionError) -> Parsed {
        let token = advance()
        switch token.kind {
        case .number(let value):
            return (.constant(value), 1)
        case .name(let name):
            if peek.kind == .symbol("(") { return try call(name, at: token) }
            if let index = slots[name], let arrays, arrays.names.contains(index) {
                guard peek.kind == .symbol("[") else {
                    throw ExpressionError(message: "'\(name)' is an array and needs an index", column: token.column,
                                          hint: "read one element as \(name)[i], \(name)[i+1] or \(name)[0], all of them with sum(\(name)) or mean(\(name))")
                }
                return try element(of: index, at: token)
            }
            if peek.kind == .symbol("[") {
                throw ExpressionError(message: "'\(shortened(name))' is not an array and cannot be indexed", column: peek.column,
                                      hint: "arrays are the variables given a size under [dimensions]")
            }
            if let index = slots[name] {
                if firstColumn[index] == nil { firstColumn[index] = token.column }
                return (.slot(index), 1)
            }
            if name == "pi" { return (.constant(Double.pi), 1) }
            if name == "e" { return (.constant(M_E), 1) }
            if let f = Function(rawValue: name), Function.language.contains(f) {
                throw ExpressionError(message: "'\(name)' is a function and needs arguments", column: token.column,
                                      hint: "write \(name)(…)")
            }
            let known = slots.sorted { $0.value < $1.value }.map(\.key) + ["pi", "e"]
            throw ExpressionError(message: "unknown name '\(shortened(name))'", column: token.column,
                                  suggestion: closest(to: name, in: known))
        case .symbol("("):
            try enter(at: token.column)
            open.append(token.column)
            let inner = try sum()
            try closeParenthesis()
            nesting -= 1
            return inner
        case .symbol(")"):
            if open.isEmpty {
                throw ExpressionError(message: "unbalanced parenthesis: ')' without '('", column: token.column)
            }
            throw ExpressionError(message: "unexpected ')'", column: token.column, hint: "an operand is missing")
        case .end:
            if let column = open.last {
                throw ExpressionError(message: "unbalanced parenthesis: '(' is never closed", column: column)
            }
            throw ExpressionError(message: "unexpected end of expression", column: token.column,
                                  hint: "an operand is missing")
        case .symbol(let c):
            throw ExpressionError(message: "unexpected '\(c)'", column: token.column, hint: "an operand is missing")
        }
    }

    mutating func closeParenthesis() throws(ExpressionError) {
        let next = peek
        if next.kind == .symbol(")") { _ = advance(); open.removeLast(); return }
        if next.kind == .end {
            throw ExpressionError(message: "unbalanced parenthesis: '(' is never closed", column: open.last!)
        }
        throw ExpressionError(message: "unexpected '\(shortened(next.text))'", column: next.column, hint: "expected ')' or an operator")
    }

    /// The slot of a read, added to `reads` the first time it is seen.
    mutating func slot(of read: ArrayRead) -> Int {
        let r = reads.firstIndex(of: read) ?? { reads.append(read); return reads.count - 1 }()
        let slot = arrays!.firstRead + r
        if firstColumn[slot] == nil { firstColumn[slot] = read.column }
        return slot
    }

    /// `x[i+k]` or `x[k]`, after the name: the index is an expression of `i` and numbers that must come to i + k or
    /// k with a whole number k.
    mutating func element(of array: Int, at token: Token) throws(ExpressionError) -> Parsed {
        let bracket = advance()  // "["
        try enter(at: bracket.column)
        open.append(bracket.column)
        let index = try sum().node
        let next = peek
        if next.kind == .symbol("]") {
            _ = advance(); open.removeLast()
        } else if next.kind == .end {
            throw ExpressionError(message: "'[' is never closed", column: bracket.column)
        } else {
            throw ExpressionError(message: "unexpected '\(shortened(next.text))'", column: next.column, hint: "expected ']' or an operator")
        }
        nesting -= 1
        var used = Set<Int>()
        index.collectSlots(into: &used)
        let site = arrays!.site
        let rule = "an index is i + k, i - k or k with a whole number k"
        if let other = used.first(where: { $0 != site }) {
            let name = other >= arrays!.firstRead ? "\(slots.first(where: { $0.value == reads[other - arrays!.firstRead].array })?.key ?? "an array")[…]"
                : slots.first(where: { $0.value == other })?.key ?? "this name"
            throw ExpressionError(message: "'\(name)' cannot appear in an index", column: bracket.column + 1, hint: rule)
        }
        let at = { (value: Double) in index.substituting { _ in .constant(value) }.constantValue! }
        let k = at(0)
        let relative = used.contains(site)
        guard k.isFinite, k == k.rounded(), Swift.abs(k) <= Double(Limits.variables),
              !relative || (at(1) - k == 1 && at(2) - k == 2) else {
            throw ExpressionError(message: "index \(index.rendered(slots.sorted { $0.value < $1.value }.map(\.key))) is not of the form i + k or k", column: bracket.column + 1, hint: rule)
        }
        let read = ArrayRead(array: array, kind: relative ? .relative(Int(k)) : .element(Int(k)), column: token.column)
        return (.slot(slot(of: read)), 1)
    }

    mutating func call(_ name: String, at token: Token) throws(ExpressionError) -> Parsed {
        if name == "sum" || name == "mean", let arrays {
            _ = advance()  // "("
            let argument = advance()
            guard case .name(let array) = argument.kind, let slot = slots[array], arrays.names.contains(slot),
                  peek.kind == .symbol(")") else {
                throw ExpressionError(message: "\(name)(…) takes the name of an array variable", column: argument.column,
                                      hint: "e.g. \(name)(u) for the sites u[0] … u[n-1]")
            }
            _ = advance()  // ")"
            let read = ArrayRead(array: slot, kind: name == "sum" ? .sum : .mean, column: token.column)
            return (.slot(self.slot(of: read)), 1)
        }
        guard let f = Function(rawValue: name), Function.language.contains(f) else {
            throw ExpressionError(message: "unknown function '\(shortened(name))'", column: token.column,
                                  suggestion: closest(to: name, in: Function.language.map(\.rawValue)))
        }
        try enter(at: token.column)
        open.append(peek.column)
        _ = advance()  // "("
        var args: [Node] = []
        var depth = 0
        if peek.kind != .symbol(")") {
            repeat {
                if !args.isEmpty { _ = advance() }  // ","
                let argument = try sum()
                args.append(argument.node)
                depth = max(depth, argument.depth)
            } while peek.kind == .symbol(",")
        }
        try closeParenthesis()
        nesting -= 1
        guard args.count == f.arity else {
            let expected = f.arity == 1 ? "1 argument" : "\(f.arity) arguments"
            throw ExpressionError(message: "'\(name)' takes \(expected), got \(args.count)", column: token.column)
        }
        return try checked((.make(f, args), depth + 1), at: token.column)
    }
}

/// `text` as shown in a message: at most 40 characters.
func shortened(_ text: String) -> String {
    text.count <= 40 ? text : text.prefix(39) + "…"
}

/// The candidate closest to `name` by edit distance, when it is close enough to be a likely typo.
public func closest(to name: String, in candidates: [String]) -> String? {
    // Edit distances cost the product of the lengths: a hostile 100 kB name gets no suggestion.
    guard name.count <= 64 else { return nil }
    // A truncated name (`rk8` for `rk8pd`) points to the shortest candidate it begins.
    if name.count >= 2, let completion = candidates.filter({ $0.lowercased().hasPrefix(name.lowercased()) && $0 != name })
        .min(by: { $0.count < $1.count }) {
        return completion
    }
    var best: (String, Int)? = nil
    for candidate in candidates {
        let d = editDistance(name.lowercased(), candidate.lowercased())
        if best == nil || d < best!.1 { best = (candidate, d) }
    }
    guard let (candidate, distance) = best else { return nil }
    let limit = max(1, min(name.count, candidate.count) / 2)
    // A one-letter name is never a typo of another one-letter name.
    return distance <= limit && distance < name.count ? candidate : nil
}

/// Levenshtein distance (insertions, deletions, substitutions; a swap of neighbours counts one).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous2 = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                current[j] = min(current[j], previous2[j - 2] + 1)
            }
        }
        (previous2, previous, current) = (previous, current, previous2)
    }
    return previous[b.count]
}
