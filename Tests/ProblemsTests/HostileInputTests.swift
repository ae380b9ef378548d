// Hostile inputs: each reproducer of a crash or a silent acceptance ends in a clear error (file, line, column or
// key, and the limit), and the large inputs that are legal are processed with correct results.
import Foundation
import Testing
@testable import Problems

/// The ExpressionError of parsing `text`, or nil when it parses.
private func expressionError(_ text: String, slots: [String] = ["x"]) -> ExpressionError? {
    do { _ = try Expression.parse(text, slots: slots); return nil } catch let error as ExpressionError { return error } catch {
        Issue.record("expected an ExpressionError, got \(error)"); return nil
    }
}

/// The error of a problem file, or nil when it parses.
private func fileError(_ text: String) -> ProblemError? {
    do { _ = try Catalog.parse(text, file: "hostile.toml"); return nil } catch let error as ProblemError { return error } catch {
        Issue.record("expected a ProblemError, got \(error)"); return nil
    }
}

/// The error of a matrix file, or nil when it parses.
private func matrixError(_ text: String) -> ProblemError? {
    do { _ = try MatrixCatalog.parse(text, file: "/tmp/hostile-matrix.toml"); return nil } catch let error as ProblemError { return error } catch {
        Issue.record("expected a ProblemError, got \(error)"); return nil
    }
}

/// A one-variable problem file with equation `equation` and the [time] table `time`.
private func problemFile(equation: String = "-x", time: String = "end = 1.0\nstep = 0.1", extra: String = "") -> String {
    """
    name = "hostile"
    variables = ["x"]
    \(extra)
    [equations]
    x = "\(equation)"
    [initial]
    x = 1.0
    [time]
    \(time)
    """
}

/// A value written by one thread and read by another.
private final class Shared<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

/// A fresh temporary folder.
private func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

@Suite struct HostileExpressionTests {
    static let depth = Limits.expressionDepth

    @Test func tenThousandNestedParenthesesAreRefusedAtTheLimit() throws {
        let text = String(repeating: "(", count: 10_000) + "x" + String(repeating: ")", count: 10_000)
        let error = try #require(expressionError(text))
        #expect(error.message == "the expression is nested more than \(Self.depth) levels deep")
        #expect(error.column == Self.depth + 1)
    }

    @Test func tenThousandNestedCallsAreRefusedAtTheLimit() throws {
        let text = String(repeating: "sin(", count: 10_000) + "x" + String(repeating: ")", count: 10_000)
        let error = try #require(expressionError(text))
        #expect(error.message.contains("nested more than \(Self.depth) levels"))
        #expect(error.column == 4 * Self.depth + 1)
    }

    @Test func nestedCallsOverALongSumDifferentiateCorrectly() throws {
        // sin(sin(…sin(S)…)), S = Σ k·x: the derivative's factors cos(s_j) all share S; 250 levels are refused.
        #expect(expressionError(String(repeating: "sin(", count: 250) + "x" + String(repeating: ")", count: 250))?
            .message.contains("nested more than") == true)
        let levels = 60, n = 2_000
        let sum = (1...n).map { "\($0)*x" }.joined(separator: " + ")
        let expression = try Expression.parse(String(repeating: "sin(", count: levels) + sum + String(repeating: ")", count: levels),
                                              slots: ["x"])
        let x = 1e-7
        var s = (1...n).reduce(0.0) { $0 + Double($1) * x }, derivative = Double(n * (n + 1) / 2)
        for _ in 0..<levels { derivative *= cos(s); s = sin(s) }
        #expect(abs(expression.evaluate([x]) - s) <= 4 * Double(levels + n) * Double.ulpOfOne * abs(s))
        let symbolic = expression.derivative(withRespectTo: 0).evaluate([x])
        #expect(abs(symbolic - derivative) <= 8 * Double(levels + n) * Double.ulpOfOne * abs(derivative))
    }

    @Test func longPowerTowersAreRefused() throws {
        let text = Array(repeating: "x", count: 10_000).joined(separator: "^")
        #expect(expressionError(text)?.message.contains("nested more than") == true)
    }

    @Test func nestingJustBelowTheLimitIsAccepted() throws {
        // Every pass (derivative, print, compile, evaluate) over the deepest accepted tree.
        let n = Self.depth - 1
        let text = String(repeating: "sin(", count: n) + "x" + String(repeating: ")", count: n)
        let expression = try Expression.parse(text, slots: ["x"])
        var expected = 0.3
        for _ in 0..<n { expected = sin(expected) }
        #expect(expression.evaluate([0.3]) == expected)
        // d/dx sin(sin(…(x))) = Π cos(inner values)
        var derivative = 1.0, inner = 0.3
        for _ in 0..<n { derivative *= cos(inner); inner = sin(inner) }
        let symbolic = expression.derivative(withRespectTo: 0)
        #expect(abs(symbolic.evaluate([0.3]) - derivative) <= 4 * Double(n) * Double.ulpOfOne * abs(derivative))
        #expect(symbolic.description.hasPrefix("cos("))
    }

    @Test func deepestTreesFitInASmallStack() throws {
        // The passes recurse at most as deep as the tree, which the parser bounds: all of them run in a 1 MB stack,
        // on the deepest mix of calls, powers, quotients and products the limit admits.
        let unit = ["sin(", "exp(", "atan2(1, ", "pow(x, ", "sqrt(1 + x * "]
        var text = "x", k = 0
        while true {
            let deeper = unit[k % unit.count] + text + ")"
            if (try? Expression.parse(deeper, slots: ["x"])) == nil { break }
            text = deeper; k += 1
        }
        #expect(k >= Self.depth / 2)
        let source = text
        let done = Shared<String?>(nil)
        let thread = Thread {
            do {
                let expression = try Expression.parse(source, slots: ["x"])
                let derivative = expression.derivative(withRespectTo: 0)
                let second = derivative.derivative(withRespectTo: 0)
                let value = second.evaluate([0.1])
                done.withLock { $0 = "\(value.isNaN ? "nan" : "ok") \(second.description.count)" }
            } catch {
                done.withLock { $0 = "error \(error)" }
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
        let deadline = Date().addingTimeInterval(120)
        while done.withLock({ $0 }) == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let result = try #require(done.withLock { $0 })
        #expect(result.hasPrefix("ok") || result.hasPrefix("nan"), "\(result)")
    }

    @Test func oneHundredThousandSignsCostNoStack() throws {
        let even = String(repeating: "-", count: 100_000) + "x"
        #expect(try Expression.parse(even, slots: ["x"]).evaluate([2.5]) == 2.5)
        let odd = String(repeating: "- ", count: 100_001) + "x"
        #expect(try Expression.parse(odd, slots: ["x"]).evaluate([2.5]) == -2.5)
        #expect(try Expression.parse("2^" + String(repeating: "-", count: 100_001) + "1", slots: []).evaluate([]) == 0.5)
    }

    @Test func sumOfTwentyThousandTermsIsExact() throws {
        // Integer-valued terms: every grouping gives the exact sum, so the pairwise grouping of long chains changes
        // nothing here; the signs must survive the grouping (a − b + c − …).
        let n = 20_000
        var text = "x", expected = 1.0
        for k in 2...n {
            let sign = k % 3 == 0 ? "-" : "+"
            text += " \(sign) \(k)*x"
            expected += (sign == "-" ? -1 : 1) * Double(k)
        }
        let expression = try Expression.parse(text, slots: ["x"])
        #expect(expression.evaluate([1]) == expected)
        #expect(expression.evaluate([2]) == 2 * expected)
        #expect(expression.derivative(withRespectTo: 0).evaluate([7]) == expected)
    }

    @Test func productOfTwentyThousandFactorsStaysWithinItsRoundingBound() throws {
        // x * x / y * x / y …: powers of two are exact whatever the grouping; 1.0001^n is within n·u relative.
        let n = 20_000
        var text = "x"
        for k in 1..<n { text += k % 2 == 0 ? " * x" : " / y" }
        let expression = try Expression.parse(text, slots: ["x", "y"])
        #expect(expression.evaluate([2, 2]) == 1)  // 10,000 factors x, 10,000 factors 1/y
        let all = try Expression.parse(Array(repeating: "x", count: n).joined(separator: " * "), slots: ["x"])
        let exact = pow(1.0001, Double(n))
        #expect(abs(all.evaluate([1.0001]) - exact) <= Double(n) * Double.ulpOfOne * exact)
        let derivative = all.derivative(withRespectTo: 0).evaluate([1.0001])
        let exactDerivative = Double(n) * pow(1.0001, Double(n - 1))
        #expect(abs(derivative - exactDerivative) <= 2 * Double(n) * Double.ulpOfOne * exactDerivative)
    }

    @Test func shortChainsStayLeftToRight() throws {
        // Up to `leftToRightTerms` terms the order is as written: 1 + 2^53 − 2^53 … is not regrouped.
        let big = "9007199254740992"
        let text = "1 + x - x" + String(repeating: " + 0*x", count: Limits.leftToRightTerms - 3)
        #expect(try Expression.parse(text, slots: ["x"]).evaluate([Double(big)!]) == 0)  // (1 + 2^53) − 2^53 = 0
    }

    @Test func numberLiteralsBeyondDoubleAreRefused() throws {
        let error = try #require(expressionError("2 * 1e400 * x"))
        #expect(error.column == 5 && error.message == "the number 1e400 is too large for a double (at most 1.8e308)")
        #expect(expressionError(String(repeating: "9", count: 400))?.message.hasPrefix("the number 9999") == true)
        #expect(try Expression.parse("1e-400 + x", slots: ["x"]).evaluate([2]) == 2)  // underflows to 0, which is finite
    }

    @Test func longUnknownNamesAreShortenedWithoutASuggestion() throws {
        let error = try #require(expressionError("x + " + String(repeating: "q", count: 200_000)))
        #expect(error.message == "unknown name '" + String(repeating: "q", count: 39) + "…'")
        #expect(error.column == 5 && error.suggestion == nil)
    }

    @Test func overlongExpressionIsRefusedBeforeLexing() throws {
        let text = String(repeating: "x+", count: Limits.expressionLength / 2) + "x"
        let error = try #require(expressionError(text))
        #expect(error.message == "the expression is \(text.utf8.count) characters long, more than the limit of \(Limits.expressionLength)")
    }

    @Test func depthErrorsInFilesNameFileLineKeyAndColumn() throws {
        let deep = String(repeating: "(", count: 10_000) + "x" + String(repeating: ")", count: 10_000)
        let error = try #require(fileError(problemFile(equation: deep)))
        #expect(error.description == "hostile.toml:5: equations.x: the expression is nested more than \(Self.depth) levels deep at column \(Self.depth + 1) (the limit counts parentheses, function calls, powers and long chains of terms)")
        let matrix = try #require(matrixError("kind = \"schrodinger1d\"\nn = 3\ninterval = [0.0, 1.0]\npotential = \"\(deep)\"\n"))
        #expect(matrix.line == 4 && matrix.key == "potential" && matrix.message.contains("nested more than \(Self.depth) levels"))
        let signs = String(repeating: "-", count: 100_000) + "i"
        #expect(try MatrixCatalog.parse("kind = \"tridiagonal\"\nn = 3\ndiagonal = \"\(signs) + 2\"\noff_diagonal = -1\n", file: "/tmp/m.toml")[2, 2] == 5)
    }
}

@Suite struct HostileProblemFileTests {
    @Test func tenThousandTermSumProblemGivesTheRightFieldAndJacobian() throws {
        // y' = −(Σ_k c_k sin(a_k x)) / n with small integer c_k, a_k: the field and ∂/∂x checked term by term,
        // within the rounding bound of the sum (n·u·Σ|term|).
        let n = 10_000
        let terms = (0..<n).map { k in "\(k % 7 + 1)*sin(x*\(k % 13 + 1).5)" }
        let text = """
        name = "sum"
        variables = ["x", "y"]
        [equations]
        x = "y"
        y = "-(\(terms.joined(separator: " + ")))/\(n)"
        [initial]
        x = 0.1
        y = 0.0
        [time]
        end = 1.0
        step = 0.1
        """
        let problem = try Catalog.parse(text, file: "sum.toml")
        let x = 0.37
        var f = 0.0, df = 0.0, magnitude = 0.0, derivativeMagnitude = 0.0
        for k in 0..<n {
            let c = Double(k % 7 + 1), a = Double(k % 13 + 1) + 0.5
            f += c * sin(x * a); magnitude += abs(c * sin(x * a))
            df += c * a * cos(x * a); derivativeMagnitude += abs(c * a * cos(x * a))
        }
        let bound = 2 * Double(n) * Double.ulpOfOne
        let field = problem.vectorField.evaluate(t: 0, state: [x, 0.5])
        #expect(field[0] == 0.5)
        #expect(abs(field[1] + f / Double(n)) <= bound * magnitude / Double(n))
        let (dfdy, dfdt) = problem.vectorField.jacobianInterpreted(t: 0, state: [x, 0.5])
        #expect(dfdy[0] == 0 && dfdy[1] == 1 && dfdy[3] == 0 && dfdt == [0, 0])
        #expect(abs(dfdy[2] + df / Double(n)) <= bound * derivativeMagnitude / Double(n))
    }

    @Test func fiveHundredVariableChainHasItsTridiagonalJacobian() throws {
        // x_i' = x_{i−1} − 2 x_i + x_{i+1} + sin(x_i): ∂f_i/∂x_i = −2 + cos(x_i), ∂f_i/∂x_{i±1} = 1, all else 0.
        let d = 500
        let names = (0..<d).map { "x\($0)" }
        let equations = (0..<d).map { i in
            "x\(i) = \"\(i > 0 ? "x\(i - 1)" : "0") - 2*x\(i) + \(i < d - 1 ? "x\(i + 1)" : "0") + sin(x\(i))\""
        }
        let text = """
        name = "chain-500"
        variables = [\(names.map { "\"\($0)\"" }.joined(separator: ", "))]
        [equations]
        \(equations.joined(separator: "\n"))
        [initial]
        \((0..<d).map { "x\($0) = \(Double($0) / 1000)" }.joined(separator: "\n"))
        [time]
        end = 1.0
        step = 0.1
        """
        let problem = try Catalog.parse(text, file: "chain.toml")
        #expect(problem.dimension == d)
        let state = (0..<d).map { sin(Double($0)) }
        let field = problem.vectorField.evaluate(t: 0, state: state)
        let interpreted = problem.vectorField.evaluateInterpreted(t: 0, state: state)
        let (dfdy, dfdt) = problem.vectorField.jacobianInterpreted(t: 0, state: state)
        #expect(problem.vectorField.jacobian(t: 0, state: state).dfdy == dfdy)
        #expect(dfdt.allSatisfy { $0 == 0 })
        for i in 0..<d {
            let left = i > 0 ? state[i - 1] : 0, right = i < d - 1 ? state[i + 1] : 0
            let expected = left - 2 * state[i] + right + sin(state[i])
            #expect(field[i] == interpreted[i])
            #expect(abs(field[i] - expected) <= 8 * Double.ulpOfOne * (abs(left) + 2 * abs(state[i]) + abs(right) + 1))
            for j in 0..<d {
                let value = dfdy[i * d + j]
                switch j {
                case i: #expect(value == -2 + cos(state[i]))
                case i - 1, i + 1: #expect(value == 1)
                default: if value != 0 { Issue.record("dfdy[\(i)][\(j)] = \(value), expected 0"); return }
                }
            }
        }
    }

    @Test func catalogFileWithAFlatSumOfTwentyThousandTerms() throws {
        // exponential-decay.toml with y' = y + y + … + y (20,000 terms): a sum of equal terms is n·y exactly.
        let url = try Catalog.directory().appendingPathComponent("exponential-decay.toml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("y = ") })
        let problem = try Catalog.parse(text.replacingOccurrences(of: String(line), with: "y = \"" + Array(repeating: "y", count: 20_000).joined(separator: "+") + "\""),
                                        file: "flat-sum.toml")
        #expect(problem.vectorField.evaluateInterpreted(t: 0, state: [0.25]) == [5_000])
        #expect(problem.vectorField.jacobianInterpreted(t: 0, state: [0.25]).dfdy == [20_000])
    }

    @Test func tooManyVariablesIsRefused() throws {
        let names = (0...Limits.variables).map { "\"v\($0)\"" }.joined(separator: ", ")
        let error = try #require(fileError(problemFile().replacingOccurrences(of: "[\"x\"]", with: "[\(names)]")))
        #expect(error.line == 2 && error.key == "variables")
        #expect(error.message == "\(Limits.variables + 1) variables, more than the limit of \(Limits.variables)")
    }

    @Test(arguments: [
        ("[[[\n", 1, 3, "a table header needs a key after '[', saw '['"),
        ("[\u{1}", 1, 2, "a table header needs a key after '[', saw byte 0x1"),
        ("a = [ }\n", 1, 7, "expected an array element or ']', saw '}'"),
        ("name = \"x\"\n[=]\n", 2, 2, "a table header needs a key after '[', saw '='"),
        ("[ \u{7F}\n", 1, 3, "a table header needs a key after '[', saw byte 0x7f"),
        ("[é]\n", 1, 2, "a table header needs a key after '[', saw U+E9"),
        ("[\n", 1, 2, "a table header needs a key after '[', saw end of line"),
        ("a = [}\n", 1, 6, "expected an array element or ']', saw '}'"),
        ("a = [1,\n  # note\n  }\n", 3, 3, "expected an array element or ']', saw '}'"),
        ("a = [\u{2028}]\n", 1, 6, "U+2028 is not a line break TOML allows outside strings"),
        ("s = 1979-05-27T:\n", 1, 16, "a date-time needs the time HH:MM:SS after 'T', saw ':'"),
        ("n = 2\ns = 1979-05-27 1\n", 2, 16, "a date-time needs a two-digit hour after the date and the space, saw end of line after one digit"),
        ("s = [1979-05-27 1]\n", 1, 17, "a date-time needs a two-digit hour after the date and the space, saw ']' after one digit"),
        ("a = 1979-05-2= 7 \n", 1, 16, "a date-time needs a two-digit hour after the date and the space, saw ' ' after one digit"),
        ("a = 1979-05-2é 7\n", 1, 16, "a date-time needs a two-digit hour after the date and the space, saw end of line after one digit"),
        ("a = 1_979-05-27 1,\n", 1, 17, "a date-time needs a two-digit hour after the date and the space, saw ',' after one digit"),
    ])
    func shapesThatStopTheTOMLLibraryAreRefusedFirst(text: String, line: Int, column: Int, message: String) throws {
        for reader in [fileError, matrixError] {
            let error = try #require(reader(text))
            #expect(error.line == line && error.column == column && error.message == "TOML syntax error: " + message, "\(error)")
        }
    }

    @Test func validTOMLPassesTheScreen() throws {
        let text = """
        # [[[ in a comment, a = [} too
        name = "a [[[ string" # and } here
        key = '''
        [[[ multi-line literal
        '''
        other = \"\"\"
        a = [} \\\"\"\" still inside
        \"\"\"
        [ table . "quoted" ]
        array = [ # comment
          1979-05-27, 1979-05-27T07:32:00Z, 1979-05-27 07:32:00, 07:32:00,
          { x = 1 }, [ ], [ [ 1 ], [ "}" ] ],
        ]
        [[ list ]]
        date = 1979-05-27 # a date and a comment
        """
        try TOMLScreen.check(text, file: "valid.toml")
        for name in try Catalog.names() {
            let url = try Catalog.directory().appendingPathComponent(name + ".toml")
            try TOMLScreen.check(String(contentsOf: url, encoding: .utf8), file: url.path)
        }
        for name in try MatrixCatalog.names() {
            let url = try MatrixCatalog.directory().appendingPathComponent(name + ".toml")
            try TOMLScreen.check(String(contentsOf: url, encoding: .utf8), file: url.path)
        }
    }

    @Test func nonUTF8FileNamesTheLineAndByteOffset() throws {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent("latin1.toml")
        var bytes = Array(problemFile().utf8)
        let offset = Array(problemFile().utf8).firstIndex(of: UInt8(ascii: "h"))!  // in name = "hostile" on line 1
        bytes[offset] = 0xE9
        try Data(bytes).write(to: file)
        let error = try #require({ () -> ProblemError? in
            do { _ = try Catalog.load(file.path); return nil } catch let error as ProblemError { return error } catch { return nil }
        }())
        #expect(error.line == 1)
        #expect(error.message == "not UTF-8 text: byte 0xE9 at byte offset \(offset) cannot start or continue a UTF-8 character")
        #expect(InputFile.firstInvalidUTF8(Array("ok ✓ 𝄞".utf8)) == nil)
        #expect(InputFile.firstInvalidUTF8([0x61, 0xED, 0xA0, 0x80]) == 1)  // a UTF-16 surrogate
        #expect(InputFile.firstInvalidUTF8([0x61, 0xF0, 0x9F, 0x98]) == 1)  // truncated at the end
        #expect(InputFile.firstInvalidUTF8([0xC0, 0xAF]) == 0)              // overlong '/'
    }

    @Test func unreadableInputsAreSaidInWords() throws {
        let folder = try temporaryFolder()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("dir.toml"), withIntermediateDirectories: true)
        for (name, message) in [("dir.toml", "dir.toml: is a folder, not a file"),
                                ("absent.toml", "absent.toml: cannot open the file: no such file")] {
            do {
                _ = try InputFile.text(atPath: folder.appendingPathComponent(name).path, display: name)
                Issue.record("\(name) was read")
            } catch {
                #expect(error.description == message)
            }
        }
        let directory = try #require({ () -> ProblemError? in
            do { _ = try Catalog.load(folder.appendingPathComponent("dir.toml").path); return nil }
            catch let error as ProblemError { return error } catch { return nil }
        }())
        #expect(directory.message == "is a folder, not a file")
    }

    @Test(arguments: [
        ("lyapunov = nan", "hostile.toml:3: lyapunov: must be a finite number, got nan"),
        ("lyapunov = -inf", "hostile.toml:3: lyapunov: must be a finite number, got -inf"),
        ("lyapunov = true", "hostile.toml:3: lyapunov: expected a number, got a boolean"),
        ("lyapunov = 1979-05-27", "hostile.toml:3: lyapunov: expected a number, got a date"),
        ("[parameters]\nk = inf", "hostile.toml:4: parameters.k: must be a finite number, got inf"),
        ("[reference]\nrtol = nan", "hostile.toml:4: reference.rtol: must be a finite positive number, got nan"),
    ])
    func nonFiniteNumbersAreSaidPlainly(extra: String, message: String) {
        #expect(fileError(problemFile(extra: extra))?.description == message)
    }

    @Test func nonFiniteInitialEquationAndTimeValues() {
        #expect(fileError(problemFile().replacingOccurrences(of: "x = 1.0", with: "x = nan"))?.description
                == "hostile.toml:7: initial.x: must be a finite number, got nan")
        #expect(fileError(problemFile().replacingOccurrences(of: "x = \"-x\"", with: "x = inf"))?.description
                == "hostile.toml:5: equations.x: must be a finite number, got inf")
        #expect(fileError(problemFile(time: "end = inf\nstep = 0.1"))?.description
                == "hostile.toml:9: time.end: must be a finite number, got inf")
    }

    @Test(arguments: [
        ("step = 1e-300", "end = 1.0\nstep = 1e-300"),
        ("start = 1e20", "start = 1e20\nend = 2e20\nstep = 1.0"),
        ("huge span", "end = 1e12\nstep = 0.01"),
        ("resolution", "start = 1e17\nend = 1.1e17\nstep = 1.0"),
    ])
    func outputGridsBeyondTheLimitAreRefusedAtParseTime(label: String, time: String) throws {
        let text = problemFile(time: time)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("step") }! + 1
        let error = try #require(fileError(text), "\(label)")
        #expect(error.file == "hostile.toml" && error.key == "time.step" && error.line == line, "\(label): \(error)")
        if case .failure(let limit) = Limits.outputRowCount(start: 0, end: 1e12, step: 0.01), label == "huge span" {
            #expect(error.message == limit.description)
            #expect(error.message.contains("\(Limits.outputRows)"))
        }
    }

    @Test(arguments: ["../../x", "", "-x", ".hidden", "a/b", "a..b", "x y", "tab\tname", "ü", String(repeating: "n", count: Limits.nameLength + 1)])
    func problemNamesThatAreNotNamesAreRefused(name: String) throws {
        let error = try #require(fileError(problemFile().replacingOccurrences(of: "name = \"hostile\"", with: "name = \"\(name)\"")))
        #expect(error.line == 1 && error.key == "name", "\(error)")
        #expect(error.message == "\(Limits.invalidNameReason(name)!): '\(name)'")
    }

    @Test(arguments: ["lorenz", "van-der-pol", "a.b", "x+y", "R2_d2", "1d"])
    func plainNamesAreAccepted(name: String) {
        #expect(Limits.invalidNameReason(name) == nil)
        #expect(fileError(problemFile().replacingOccurrences(of: "name = \"hostile\"", with: "name = \"\(name)\"")) == nil)
    }
}

@Suite struct HostileMatrixFileTests {
    @Test func hugeCoordinateHeaderIsRefusedBeforeAllocating() throws {
        let text = "%%MatrixMarket matrix coordinate real symmetric\n100000 100000 1\n1 1 1\n"
        let error = try #require({ () -> ProblemError? in
            do { _ = try MatrixMarket.parse(text, file: "big.mtx"); return nil } catch let error as ProblemError { return error } catch { return nil }
        }())
        #expect(error.description == "big.mtx:2: the matrix is 100000×100000, larger than the limit of \(Limits.matrixDimension)×\(Limits.matrixDimension) (dense storage: n² doubles)")
    }

    @Test func hugeArrayHeaderIsRefusedBeforeAllocating() throws {
        let text = "%%MatrixMarket matrix array real general\n% a comment\n50000 50000\n1\n"
        let error = try #require({ () -> ProblemError? in
            do { _ = try MatrixMarket.parse(text, file: "big.mtx"); return nil } catch let error as ProblemError { return error } catch { return nil }
        }())
        #expect(error.line == 3 && error.message.contains("larger than the limit of \(Limits.matrixDimension)"))
        let dense = "kind = \"dense\"\nrows = [" + Array(repeating: "[1]", count: Limits.matrixDimension + 1).joined(separator: ",") + "]\n"
        #expect(matrixError(dense)?.message == "has \(Limits.matrixDimension + 1) rows, more than the limit of \(Limits.matrixDimension)")
    }

    @Test func sizeLineWhoseSquareOverflowsIsRefused() throws {
        let text = "%%MatrixMarket matrix array real symmetric\n4294967296 4294967296\n1.0\n"
        let error = try #require({ () -> ProblemError? in
            do { _ = try MatrixMarket.parse(text, file: "overflow.mtx"); return nil } catch let error as ProblemError { return error } catch { return nil }
        }())
        #expect(error.line == 2 && error.message.hasPrefix("the matrix is 4294967296×4294967296, larger than the limit"))
    }

    @Test func crlfMatrixMarketFileReadsLikeTheLFOne() throws {
        let lf = "%%MatrixMarket matrix coordinate real symmetric\n% comment\n3 3 4\n1 1 2.0\n2 1 -1\n2 2 2\n3 3 5e-1\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        let a = try MatrixMarket.parse(lf, file: "lf.mtx"), b = try MatrixMarket.parse(crlf, file: "crlf.mtx")
        #expect(a.dimension == 3 && b.dimension == 3 && a.entries == b.entries)
        #expect(b.entries == [2, -1, 0, -1, 2, 0, 0, 0, 0.5])
        let array = "%%MatrixMarket matrix array real symmetric\r\n2 2\r\n1\r\n2\r\n3\r\n"
        #expect(try MatrixMarket.parse(array, file: "a.mtx").entries == [1, 2, 2, 3])
        let bad = try #require({ () -> ProblemError? in
            do { _ = try MatrixMarket.parse("%%MatrixMarket matrix coordinate real general\r\n2 2 1\r\n1 1 x\r\n", file: "x.mtx"); return nil }
            catch let error as ProblemError { return error } catch { return nil }
        }())
        #expect(bad.line == 3 && bad.message == "'x' is not a number")
    }

    @Test func crlfTOMLFilesKeepTheirLineNumbers() throws {
        let text = problemFile(equation: "-x + q").replacingOccurrences(of: "\n", with: "\r\n")
        let error = try #require(fileError(text))
        #expect(error.line == 5 && error.key == "equations.x" && error.column == 6)
    }

    @Test(arguments: ["../../x", "", "-m", "a/b"])
    func matrixNamesThatAreNotNamesAreRefused(name: String) throws {
        let error = try #require(matrixError("name = \"\(name)\"\nkind = \"tridiagonal\"\nn = 3\ndiagonal = 2\noff_diagonal = -1\n"))
        #expect(error.line == 1 && error.key == "name", "\(error)")
    }

    @Test func matrixMarketFileNamesBecomeNamesOnlyWhenValid() throws {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent("-rf.mtx")
        try "%%MatrixMarket matrix coordinate real symmetric\n1 1 1\n1 1 2\n".write(to: file, atomically: true, encoding: .utf8)
        let error = try #require({ () -> ProblemError? in
            do { _ = try MatrixCatalog.load(file.path); return nil } catch let error as ProblemError { return error } catch { return nil }
        }())
        #expect(error.message.contains("'-rf'") && error.hint?.contains("rename") == true, "\(error)")
        let good = folder.appendingPathComponent("good.mtx")
        try FileManager.default.copyItem(at: file, to: good)
        #expect(try MatrixCatalog.load(good.path).name == "good")
    }

    @Test func nonFiniteMatrixParametersSaySo() {
        let error = matrixError("kind = \"tridiagonal\"\nn = 3\ndiagonal = \"g\"\noff_diagonal = -1\n[parameters]\ng = nan\n")
        #expect(error?.message == "must be a finite number, got nan")
    }
}
