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
        case symbol(Character)  // + - * / ^ ( ) ,
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
                    throw ExpressionError(message: "malformed number '\(literal)'", column: start + 1)
                }
                tokens.append(Token(kind: .number(value), column: start + 1, text: literal))
            } else if c == "_" || (c.isASCII && c.isLetter) {
                while i < chars.count, chars[i] == "_" || (chars[i].isASCII && (chars[i].isLetter || chars[i].isNumber)) {
                    i += 1
                }
                let name = String(chars[start..<i])
                tokens.append(Token(kind: .name(name), column: start + 1, text: name))
            } else if "+-*/^(),".contains(c) {
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
///   unary   = ("-" | "+") unary | power
///   power   = primary [ "^" unary ]          (right-associative; `-x^2` = −(x²), `2^-1` = 0.5)
///   primary = number | name | name "(" sum { "," sum } ")" | "(" sum ")"
struct Parser {
    let tokens: [Token]
    let slots: [String]
    var position = 0
    /// Column of the first use of each slot.
    var firstColumn: [Int: Int] = [:]
    /// Columns of the currently open parentheses, innermost last.
    var open: [Int] = []

    static func parse(_ text: String, slots: [String]) throws(ExpressionError) -> (node: Node, firstColumn: [Int: Int]) {
        var parser = Parser(tokens: try Lexer.tokens(text), slots: slots)
        if parser.peek.kind == .end { throw ExpressionError(message: "empty expression", column: 1) }
        let node = try parser.sum()
        let next = parser.peek
        if next.kind != .end {
            if next.kind == .symbol(")") {
                throw ExpressionError(message: "unbalanced parenthesis: ')' without '('", column: next.column)
            }
            throw ExpressionError(message: "unexpected '\(next.text)'", column: next.column,
                                  suggestion: nil, hint: "an operator is missing before it")
        }
        return (node, parser.firstColumn)
    }

    var peek: Token { tokens[position] }
    mutating func advance() -> Token { defer { position += 1 }; return tokens[position] }

    mutating func sum() throws(ExpressionError) -> Node {
        var left = try product()
        while case .symbol(let c) = peek.kind, c == "+" || c == "-" {
            _ = advance()
            let right = try product()
            left = .make(c == "+" ? .add : .subtract, left, right)
        }
        return left
    }

    mutating func product() throws(ExpressionError) -> Node {
        var left = try unary()
        while case .symbol(let c) = peek.kind, c == "*" || c == "/" {
            _ = advance()
            let right = try unary()
            left = .make(c == "*" ? .multiply : .divide, left, right)
        }
        return left
    }

    mutating func unary() throws(ExpressionError) -> Node {
        if case .symbol(let c) = peek.kind, c == "-" || c == "+" {
            _ = advance()
            let operand = try unary()
            return c == "-" ? .negated(operand) : operand
        }
        return try power()
    }

    mutating func power() throws(ExpressionError) -> Node {
        let base = try primary()
        if peek.kind == .symbol("^") {
            _ = advance()
            let exponent = try unary()
            return .make(.power, base, exponent)
        }
        return base
    }

    mutating func primary() throws(ExpressionError) -> Node {
        let token = advance()
        switch token.kind {
        case .number(let value):
            return .constant(value)
        case .name(let name):
            if peek.kind == .symbol("(") { return try call(name, at: token) }
            if let index = slots.firstIndex(of: name) {
                if firstColumn[index] == nil { firstColumn[index] = token.column }
                return .slot(index)
            }
            if name == "pi" { return .constant(Double.pi) }
            if name == "e" { return .constant(M_E) }
            if let f = Function(rawValue: name), Function.language.contains(f) {
                throw ExpressionError(message: "'\(name)' is a function and needs arguments", column: token.column,
                                      hint: "write \(name)(…)")
            }
            let known = slots + ["pi", "e"]
            throw ExpressionError(message: "unknown name '\(name)'", column: token.column,
                                  suggestion: closest(to: name, in: known))
        case .symbol("("):
            open.append(token.column)
            let inner = try sum()
            try closeParenthesis()
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
        throw ExpressionError(message: "unexpected '\(next.text)'", column: next.column, hint: "expected ')' or an operator")
    }

    mutating func call(_ name: String, at token: Token) throws(ExpressionError) -> Node {
        guard let f = Function(rawValue: name), Function.language.contains(f) else {
            throw ExpressionError(message: "unknown function '\(name)'", column: token.column,
                                  suggestion: closest(to: name, in: Function.language.map(\.rawValue)))
        }
        open.append(peek.column)
        _ = advance()  // "("
        var args: [Node] = []
        if peek.kind != .symbol(")") {
            args.append(try sum())
            while peek.kind == .symbol(",") {
                _ = advance()
                args.append(try sum())
            }
        }
        try closeParenthesis()
        guard args.count == f.arity else {
            let expected = f.arity == 1 ? "1 argument" : "\(f.arity) arguments"
            throw ExpressionError(message: "'\(name)' takes \(expected), got \(args.count)", column: token.column)
        }
        return .make(f, args)
    }
}

/// The candidate closest to `name` by edit distance, when it is close enough to be a likely typo.
func closest(to name: String, in candidates: [String]) -> String? {
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
