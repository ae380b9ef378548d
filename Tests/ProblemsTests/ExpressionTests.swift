// The expression language: precedence, associativity, every function, error columns, suggestions,
// symbolic derivatives against central differences.
import Foundation
import Testing
@testable import Problems
import Support

private func value(_ text: String, _ slots: [String] = [], _ values: [Double] = []) throws -> Double {
    try Expression.parse(text, slots: slots).evaluate(values)
}

private func parseError(_ text: String, slots: [String] = ["x", "y", "rho"]) -> ExpressionError? {
    do {
        _ = try Expression.parse(text, slots: slots)
        return nil
    } catch let error as ExpressionError {
        return error
    } catch {
        return nil
    }
}

@Suite struct ParserTests {
    @Test func precedenceOfOperators() throws {
        #expect(try value("1 + 2 * 3") == 7)
        #expect(try value("(1 + 2) * 3") == 9)
        #expect(try value("10 - 4 - 3") == 3)        // left-associative
        #expect(try value("24 / 4 / 2") == 3)
        #expect(try value("2 * 3 ^ 2") == 18)
        #expect(try value("1 + 8 / 2 ^ 2 * 3") == 7)
        #expect(try value("x - y - x", ["x", "y"], [5, 2]) == -2)
        #expect(try value("x / y / x", ["x", "y"], [4, 2]) == 0.5)
    }

    @Test func powerIsRightAssociative() throws {
        #expect(try value("2 ^ 3 ^ 2") == 512)
        #expect(try value("(2 ^ 3) ^ 2") == 64)
        #expect(try value("2 ^ -1") == 0.5)
        #expect(try value("2 ^ -1 ^ 2") == 0.5)     // 2^(-(1^2))
        #expect(try value("x ^ y ^ x", ["x", "y"], [2, 3]) == 512)
    }

    @Test func unaryMinusBindsLooserThanPower() throws {
        #expect(try value("-x^2", ["x"], [3]) == -9)
        #expect(try value("(-x)^2", ["x"], [3]) == 9)
        #expect(try value("-2^2") == -4)
        #expect(try value("--x", ["x"], [3]) == 3)
        #expect(try value("2 * -x", ["x"], [3]) == -6)
        #expect(try value("-x * -y", ["x", "y"], [3, 4]) == 12)
        #expect(try value("+x", ["x"], [3]) == 3)
    }

    @Test func numbersAndConstants() throws {
        #expect(try value("1.5e3") == 1500)
        #expect(try value("2.5E-2") == 0.025)
        #expect(try value(".5") == 0.5)
        #expect(try value("3.") == 3)
        #expect(try value("pi") == Double.pi)
        #expect(try value("e") == M_E)
        #expect(try value("2*e") == 2 * M_E)
        #expect(try value("e", ["e"], [7]) == 7)     // a slot hides the constant
    }

    @Test func slotsAreReadInOrder() throws {
        let expression = try Expression.parse("a - 2*b + t", slots: ["t", "a", "b"])
        #expect(expression.evaluate([10, 5, 1]) == 13)
        #expect(expression.slotsUsed == ["t", "a", "b"])
        #expect(expression.description == "a - 2*b + t")
    }

    static let functionCases: [(String, Double)] = [
        ("sin(0.7)", sin(0.7)), ("cos(0.7)", cos(0.7)), ("tan(0.7)", tan(0.7)),
        ("asin(0.3)", asin(0.3)), ("acos(0.3)", acos(0.3)), ("atan(2.5)", atan(2.5)),
        ("atan2(-1, -2)", atan2(-1.0, -2.0)), ("sinh(0.8)", sinh(0.8)), ("cosh(0.8)", cosh(0.8)),
        ("tanh(0.8)", tanh(0.8)), ("exp(1.3)", exp(1.3)), ("log(4.2)", log(4.2)), ("sqrt(2)", 2.0.squareRoot()),
        ("abs(-3.5)", 3.5), ("pow(2.5, 1.7)", pow(2.5, 1.7)), ("min(3, -2)", -2.0), ("max(3, -2)", 3.0),
    ]

    @Test func languageHasExactlyTheDocumentedFunctions() {
        #expect(Set(Function.language.map(\.rawValue)) == Set(Self.functionCases.map { String($0.0.prefix { $0 != "(" }) }))
    }

    @Test(arguments: functionCases)
    func everyFunction(text: String, expected: Double) throws {
        // Once folded as a constant, once computed by the program from a slot.
        #expect(try value(text) == expected)
        let slotted = text.replacingOccurrences(of: "(", with: "(z + ")
        #expect(try value(slotted, ["z"], [0]) == expected, "\(slotted)")
    }

    @Test func functionsOfSlotsRunInTheProgram() throws {
        let x = 0.37, y = -1.9
        let cases: [(String, Double)] = [
            ("sin(x) + cos(y)", sin(x) + cos(y)), ("atan2(y, x)", atan2(y, x)), ("pow(x, y)", pow(x, y)),
            ("x^3", x * x * x), ("y^-2", 1 / (y * y)), ("x^0.5", x.squareRoot()), ("x^y", pow(x, y)),
            ("min(x, y) * max(x, y)", x * y), ("abs(y) / sqrt(x)", abs(y) / x.squareRoot()),
            ("x^7", pow(x, 7)), ("tanh(x) - sinh(y) + cosh(x)", tanh(x) - sinh(y) + cosh(x)),
            ("x*y + x*x - y*3", x * y + x * x - y * 3), ("2*x - x*y", 2 * x - x * y),
            ("x + y", x + y), ("x - y", x - y), ("x * y", x * y), ("x / y", x / y),
            ("2 + y", 2 + y), ("2 - y", 2 - y), ("2 * y", 2 * y), ("2 / y", 2 / y),
            ("x + 2", x + 2), ("x - 2", x - 2), ("x * 2", x * 2), ("x / 2", x / 2),
            ("(x + y) * (x - y) / (x * y)", (x + y) * (x - y) / (x * y)), ("2 - (x - y)", 2 - (x - y)),
        ]
        for (text, expected) in cases {
            let got = try value(text, ["x", "y"], [x, y])
            #expect(abs(got - expected) <= 1e-15 * max(1, abs(expected)), "\(text): \(got) vs \(expected)")
        }
    }
}

@Suite struct ParseErrorTests {
    @Test func unknownNameSuggestsClosest() {
        let error = parseError("x * (rhoo - y)")
        #expect(error == ExpressionError(message: "unknown name 'rhoo'", column: 6, suggestion: "rho"))
        #expect(error?.description == "unknown name 'rhoo' at column 6 (did you mean 'rho'?)")
        #expect(parseError("zeta + 1")?.message == "unknown name 'zeta'")
        #expect(parseError("zeta + 1")?.suggestion == nil)
    }

    @Test func unbalancedParentheses() {
        #expect(parseError("x * (y + (1 - x)")?.message == "unbalanced parenthesis: '(' is never closed")
        #expect(parseError("x * (y + (1 - x)")?.column == 5)
        #expect(parseError("sin(x")?.column == 4)
        #expect(parseError("x + y) * 2")?.column == 6)
        #expect(parseError("x + y) * 2")?.message == "unbalanced parenthesis: ')' without '('")
    }

    @Test func unexpectedTokens() {
        #expect(parseError("x * * y") == ExpressionError(message: "unexpected '*'", column: 5, hint: "an operand is missing"))
        #expect(parseError("x y")?.column == 3)
        #expect(parseError("x +")?.message == "unexpected end of expression")
        #expect(parseError("x +")?.column == 4)
        #expect(parseError("x # y")?.message == "unexpected character '#'")
        #expect(parseError("x # y")?.column == 3)
        #expect(parseError("")?.message == "empty expression")
        #expect(parseError("()")?.column == 2)
    }

    @Test func functionArityAndNames() {
        #expect(parseError("1 + atan2(x)") == ExpressionError(message: "'atan2' takes 2 arguments, got 1", column: 5))
        #expect(parseError("sin(x, y)")?.message == "'sin' takes 1 argument, got 2")
        #expect(parseError("max()")?.message == "'max' takes 2 arguments, got 0")
        #expect(parseError("sine(x)") == ExpressionError(message: "unknown function 'sine'", column: 1, suggestion: "sin"))
        #expect(parseError("x + sin")?.message == "'sin' is a function and needs arguments")
        #expect(parseError("sign(x)")?.message == "unknown function 'sign'")   // internal only
    }

    @Test func suggestionsByEditDistance() {
        #expect(closest(to: "sigam", in: ["sigma", "rho", "beta"]) == "sigma")
        #expect(closest(to: "bta", in: ["sigma", "rho", "beta"]) == "beta")
        #expect(closest(to: "omega", in: ["sigma", "rho", "beta"]) == nil)
        #expect(editDistance("kitten", "sitting") == 3)
    }
}

@Suite struct DerivativeTests {
    static let slots = ["x", "y", "t"]
    static let expressions = [
        "x * y + 3 * x^2 - y / x", "sin(x * y) + cos(t)", "tan(x / 3) * exp(-y^2)", "asin(x / 4) + acos(y / 5)",
        "atan(x * y)", "atan2(y, x + 2)", "sinh(x) * cosh(y) - tanh(x * t)", "log(x^2 + y^2)", "sqrt(1 + x^2 * y^2)",
        "abs(x - y) * t", "pow(x, 3.5) + pow(2, y)", "x^y", "min(x, y^2) + max(x * t, y)", "-x^2 / (1 + y)^3",
        "(x^2 + y^2)^1.5", "x^-2 + y^-1", "2^x^y", "exp(sin(x) * cos(y * t))", "x - x + y * 0",
    ]

    @Test(arguments: expressions)
    func matchesCentralDifferences(text: String) throws {
        let expression = try Expression.parse(text, slots: Self.slots)
        var generator = SeededGenerator(seed: 17)
        for _ in 0..<6 {
            let point = [Double.random(in: 0.4...1.7, using: &generator), Double.random(in: 0.3...1.9, using: &generator),
                         Double.random(in: -1...1, using: &generator)]
            for i in Self.slots.indices {
                let derivative = expression.derivative(withRespectTo: i)
                let h = 1e-6
                var plus = point, minus = point
                plus[i] += h; minus[i] -= h
                let numeric = (expression.evaluate(plus) - expression.evaluate(minus)) / (2 * h)
                let symbolic = derivative.evaluate(point)
                #expect(abs(symbolic - numeric) <= 1e-6 * max(1, abs(numeric)),
                        "d/d\(Self.slots[i]) \(text) = \(derivative) at \(point): \(symbolic) vs \(numeric)")
            }
        }
    }

    @Test func simplifiesZerosAndOnes() throws {
        let expression = try Expression.parse("sigma * (y - x)", slots: ["x", "y", "sigma"])
        #expect(expression.derivative(withRespectTo: "x").description == "-sigma")
        #expect(expression.derivative(withRespectTo: "y").description == "sigma")
        let product = try Expression.parse("x * y - 3 * z", slots: ["x", "y", "z"])
        #expect(product.derivative(withRespectTo: 0).description == "y")
        #expect(product.derivative(withRespectTo: 2).description == "-3")
        #expect(product.derivative(withRespectTo: 2).isConstant)
        let square = try Expression.parse("x^2", slots: ["x"])
        #expect(square.derivative(withRespectTo: 0).description == "2 * x")
        #expect(square.derivative(withRespectTo: 0).derivative(withRespectTo: 0).description == "2")
    }

    @Test func renderedDerivativesParseBack() throws {
        for text in Self.expressions where !text.contains("abs") && !text.contains("min") {
            let derivative = try Expression.parse(text, slots: Self.slots).derivative(withRespectTo: 0)
            let reparsed = try Expression.parse(derivative.description, slots: Self.slots)
            let point = [0.9, 1.3, 0.2]
            let expected = derivative.evaluate(point)
            #expect(abs(reparsed.evaluate(point) - expected) <= 1e-12 * max(1, abs(expected)), "\(derivative)")
        }
    }
}

/// A small deterministic generator (SplitMix64) so test points are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
