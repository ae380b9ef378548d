// Array variables: the issue's Lorenz-96 form read as written, the per-site equation against the formula at every
// site for both boundary rules, the exact sparse Jacobian against central differences, the loop in the native
// code, sum/mean invariants, and one test per kind of mistake checking the whole message.
import Foundation
import Testing
@testable import Problems

/// The issue's example, verbatim apart from a time span.
private let lorenz96File = """
name = "lorenz96"
variables = ["x"]
[dimensions]
x = 40                       # x[0] … x[39]
[parameters]
F = 8
[equations]
x = "(x[i+1] - x[i-2]) * x[i-1] - x[i] + F"     # i is the site index
[boundary]
x = "periodic"               # or "zero": x[j] reads 0 outside 0 … n-1
[initial]
x = "F + 0.01*sin(i)"        # an expression of i and the parameters, or a list of n numbers
[sampling]
x = [-2.0, 10.0]             # every site drawn in this range
transient = 20.0
[time]
end = 10.0
step = 0.01
"""

/// A scalar z coupled to an array x of 8 sites with a zero boundary; tests replace one piece to break it.
private let mixedFile = """
name = "ring"
variables = ["x", "z"]
[dimensions]
x = 8
[boundary]
x = "zero"
[parameters]
F = 8
[equations]
x = "(x[i+1] - x[i-2]) * x[i-1] - x[i] + F + z*sin(t)"
z = "-z + x[0] * x[7]"
[initial]
x = "F + 0.01*sin(i)"
z = 0.5
[time]
end = 1.0
step = 0.1
[sampling]
x = [-2.0, 10.0]
z = [0, 1]
transient = 2.0
[invariants]
total = "sum(x) + z"
average = "mean(x)"
"""

/// `mixedFile` with `old` replaced by `new` (which must occur).
private func mixed(_ old: String, _ new: String) -> String {
    precondition(mixedFile.contains(old), "'\(old)' not in the test file")
    return mixedFile.replacingOccurrences(of: old, with: new)
}

/// The message for `text`, or nil when it loads.
private func arrayError(_ text: String) -> String? {
    do {
        _ = try Catalog.parse(text, file: "ring.toml")
        return nil
    } catch {
        return "\(error)"
    }
}

/// The Jacobian against central differences of f at `y`, entry by entry (all d² of them: the zeros too).
private func expectJacobianMatchesDifferences(_ problem: Problem, at y: [Double], t: Double,
                                              sourceLocation: SourceLocation = #_sourceLocation) {
    let field = problem.vectorField, d = problem.dimension
    let (dfdy, dfdt) = field.jacobian(t: t, state: y)
    for j in 0..<d {
        let h = 1e-6 * max(1, abs(y[j]))
        var plus = y, minus = y
        plus[j] += h; minus[j] -= h
        let fp = field.evaluate(t: t, state: plus), fm = field.evaluate(t: t, state: minus)
        for i in 0..<d {
            let numeric = (fp[i] - fm[i]) / (2 * h)
            // Central differences: error O(h² f''') plus rounding O(ε |f| / h).
            let scale = max(1, abs(numeric), abs(fp[i]) / max(1, abs(y[j])))
            #expect(abs(dfdy[i * d + j] - numeric) <= 1e-5 * scale,
                    "∂f\(i)/∂y\(j): \(dfdy[i * d + j]) vs \(numeric)", sourceLocation: sourceLocation)
        }
    }
    let h = 1e-6 * max(1, abs(t))
    let fp = field.evaluate(t: t + h, state: y), fm = field.evaluate(t: t - h, state: y)
    for i in 0..<d {
        let numeric = (fp[i] - fm[i]) / (2 * h)
        #expect(abs(dfdt[i] - numeric) <= 1e-5 * max(1, abs(numeric)), "∂f\(i)/∂t: \(dfdt[i]) vs \(numeric)",
                sourceLocation: sourceLocation)
    }
}

@Suite struct ArrayProblemTests {
    @Test func issueFormReadsAsWritten() throws {
        let problem = try Catalog.parse(lorenz96File, file: "lorenz96.toml")
        #expect(problem.dimension == 40)
        #expect(problem.variables == (0..<40).map { "x[\($0)]" })
        #expect(problem.arrayVariables == [ArrayVariable(name: "x", offset: 0, count: 40, boundary: .periodic)])
        #expect(problem.initial == (0..<40).map { 8 + 0.01 * sin(Double($0)) })
        #expect(problem.sampling == [ClosedRange<Double>](repeating: -2.0...10.0, count: 40))
        #expect(problem.transient == 20)
        // Every site, the wrap-around ones included, against the formula with indices taken mod 40.
        var generator = SeededGenerator(seed: 5)
        let y = (0..<40).map { _ in Double.random(in: -2...10, using: &generator) }
        let f = problem.vectorField.evaluate(t: 0, state: y)
        let f2 = problem.vectorField.evaluateInterpreted(t: 0, state: y)
        for i in 0..<40 {
            let at = { (k: Int) in y[(i + k + 40) % 40] }
            let expected = (at(1) - at(-2)) * at(-1) - at(0) + 8
            #expect(f[i] == expected, "site \(i)")
            #expect(f2[i] == expected, "site \(i), interpreted")
        }
    }

    @Test func scalarProblemsHaveNoArrays() throws {
        #expect(try Catalog.parse(validFile, file: "test.toml").arrayVariables.isEmpty)
    }

    @Test func zeroBoundaryReadsZeroAndScalarsMix() throws {
        let problem = try Catalog.parse(mixedFile, file: "ring.toml")
        #expect(problem.variables == (0..<8).map { "x[\($0)]" } + ["z"])
        #expect(problem.arrayVariables == [ArrayVariable(name: "x", offset: 0, count: 8, boundary: .zero)])
        #expect(problem.variablesSummary == "x[0] … x[7], z")
        #expect(throws: ProblemError.self) { try problem.setting("x", to: 1) }
        #expect(try problem.setting("x[7]", to: 1).initial[7] == 1)
        var generator = SeededGenerator(seed: 6)
        let y = (0..<9).map { _ in Double.random(in: -2...10, using: &generator) }
        let t = 0.7
        for f in [problem.vectorField.evaluate(t: t, state: y), problem.vectorField.evaluateInterpreted(t: t, state: y)] {
            for i in 0..<8 {
                let at = { (k: Int) in (0..<8).contains(i + k) ? y[i + k] : 0 }
                #expect(f[i] == (at(1) - at(-2)) * at(-1) - at(0) + 8 + y[8] * sin(t), "site \(i)")
            }
            #expect(f[8] == -y[8] + y[0] * y[7])
        }
        expectJacobianMatchesDifferences(problem, at: y, t: t)
        let sum = y[0..<8].reduce(0, +)
        let values = problem.invariantValues(t: t, state: y)
        #expect(abs(values[0] - (sum + y[8])) <= 1e-14 * (abs(sum) + abs(y[8])))
        #expect(abs(values[1] - sum / 8) <= 1e-14 * abs(sum))
    }

    /// Two sites on a ring: x[i+1] and x[i-1] are the same site, so their Jacobian entries add up.
    @Test func wrappedOffsetsOnTheSameSiteAddUp() throws {
        let text = mixed("x = 8", "x = 2").replacingOccurrences(of: "x[0] * x[7]", with: "x[0] * x[1]")
            .replacingOccurrences(of: "x = \"zero\"", with: "x = \"periodic\"")
            .replacingOccurrences(of: "x[i-2]", with: "x[i+1]^2")
        let problem = try Catalog.parse(text, file: "ring.toml")
        let y = [1.5, -0.5, 0.25]
        expectJacobianMatchesDifferences(problem, at: y, t: 0.3)
        // f0 = (x1 − x1²)·x1 − x0 + F + z sin t: ∂f0/∂x1 = (1 − 2 x1) x1 (through x[i+1]) + x1 − x1² (through
        // x[i-1]) = 2 x1 − 3 x1², exact in binary at x1 = −0.5.
        let (dfdy, _) = problem.vectorField.jacobian(t: 0.3, state: y)
        let expected: Double = -1.75
        #expect(dfdy[1] == expected)
        #expect(dfdy[0 * 3 + 0] == -1)
    }

    @Test func jacobianIsABandOfTheStencil() throws {
        let problem = try Catalog.parse(lorenz96File, file: "lorenz96.toml")
        var generator = SeededGenerator(seed: 8)
        let y = (0..<40).map { _ in Double.random(in: -2...10, using: &generator) }
        let (dfdy, _) = problem.vectorField.jacobian(t: 0, state: y)
        for i in 0..<40 {
            let nonZero = Set((0..<40).filter { dfdy[i * 40 + $0] != 0 })
            #expect(nonZero.isSubset(of: Set([-2, -1, 0, 1].map { (i + $0 + 40) % 40 })), "row \(i): \(nonZero.sorted())")
        }
        expectJacobianMatchesDifferences(problem, at: y, t: 0)
    }

    @Test func initialAsAListOfNumbers() throws {
        let list = (0..<8).map { "\(Double($0) / 2)" }.joined(separator: ", ")
        let problem = try Catalog.parse(mixed("x = \"F + 0.01*sin(i)\"", "x = [\(list)]"), file: "ring.toml")
        #expect(problem.initial == (0..<8).map { Double($0) / 2 } + [0.5])
        let constant = try Catalog.parse(mixed("x = \"F + 0.01*sin(i)\"", "x = 3"), file: "ring.toml")
        #expect(constant.initial == [Double](repeating: 3, count: 8) + [0.5])
    }

    @Test func sizesAreNamesInExpressions() throws {
        let problem = try Catalog.parse(mixed("x = \"F + 0.01*sin(i)\"", "x = \"i / n_x\""), file: "ring.toml")
        #expect(problem.initial == (0..<8).map { Double($0) / 8 } + [0.5])
    }

    /// The per-site equation becomes one loop in C, not one copy per site.
    @Test func nativeCodeLoopsOverSites() throws {
        let problem = try Catalog.parse(lorenz96File, file: "lorenz96.toml")
        let field = problem.vectorField
        #expect(field.instructionCounts.rightHandSide < 40)
        var used = Set<Int>()
        let nodes = field.equations.map(\.node)
        nodes[0].collectSlots(into: &used)
        #expect(used == [38, 39, 0, 1])
        let equation = SiteEquation(target: problem.arrayVariables[0], node: .slot(0),
                                    sources: [.neighbour(problem.arrayVariables[0], shift: -2)])
        let source = NativeCode.translate(rightHandSide: [], jacobian: [],
                                          sites: [NativeCode.Sites(equation: equation, band: [(0, .constant(1))], timeDerivative: nil)],
                                          dimension: 40)
        #expect(source.contains("for (long site = 0; site < 40; ++site) {"))
        #expect(source.contains("const double v0 = y[0 + rn_wrap(site + -2, 40)];"))
        #expect(source.contains("dfdy[(0 + site) * 40 + 0 + rn_wrap(site + -2, 40)] += 1.0;"))
    }

    /// An array's exact solution holds for the file's initial state only: changing that state withdraws it.
    @Test func exactSolutionPerSite() throws {
        let text = mixed("[invariants]", """
            [exact]
            x = "(F + 0.01*sin(i)) * exp(-(t - t_0))"
            z = "z_0 * exp(-(t - t_0))"
            [invariants]
            """)
        let problem = try Catalog.parse(text, file: "ring.toml")
        let state = try #require(problem.exactState(at: 1))
        #expect(state.count == 9)
        for i in 0..<8 { #expect(abs(state[i] - (8 + 0.01 * sin(Double(i))) * exp(-1)) <= 1e-15 * 8) }
        #expect(abs(state[8] - 0.5 * exp(-1)) <= 1e-16)
        #expect(try problem.setting("z", to: 0.25).exactState(at: 1)?[8] == 0.25 * exp(-1))
        #expect(try problem.setting("x[3]", to: 1).exactState(at: 1) == nil)
        #expect(arrayError(text.replacingOccurrences(of: "(F + 0.01*sin(i))", with: "x_0")) ==
                "ring.toml:23: exact.x: 'x_0' cannot be used here at column 1 (an exact solution may use t, t_0, the parameters, the initial values <variable>_0 of scalar variables and, for an array, the site index i)")
    }

    @Test(arguments: [
        // [dimensions]
        ("x = 8", "x = 0", "ring.toml:4: dimensions.x: expected a positive whole number of sites, got the integer 0"),
        ("x = 8", "x = 8.5", "ring.toml:4: dimensions.x: expected a positive whole number of sites, got the number 8.5"),
        ("x = 8", "x = 2000",
         "ring.toml:4: dimensions.x: x has 2000 sites, which makes more than the limit of 2000 state components"),
        ("x = 8", "y = 8", "ring.toml:4: dimensions.y: size for undeclared variable 'y' (variables: x, z)"),
        // [boundary]
        ("x = \"zero\"", "x = \"wrap\"", "ring.toml:6: boundary.x: expected \"periodic\" or \"zero\", got \"wrap\""),
        ("[boundary]\nx = \"zero\"", "[boundary]\nz = \"zero\"",
         "ring.toml:6: boundary.z: boundary for 'z', which is not an array variable (array variables: x)"),
        ("[boundary]\nx = \"zero\"", "",
         "ring.toml:4: boundary: no boundary for array variable 'x' (add x = \"periodic\" or x = \"zero\" under [boundary])"),
        // Stencils and indices.
        ("x[i+1] - x[i-2]", "x[i+8] - x[i-2]",
         "ring.toml:10: equations.x: x[i+8] reads x[8] at site i = 0 and outside x[0] … x[7] at every site, where the zero boundary gives 0 at column 2 (a stencil offset must be smaller than the 8 sites of x)"),
        ("x[i+1] - x[i-2]", "x[i+1] - x[i-9]",
         "ring.toml:10: equations.x: x[i-9] reads x[-9] at site i = 0 and outside x[0] … x[7] at every site, where the zero boundary gives 0 at column 11 (a stencil offset must be smaller than the 8 sites of x)"),
        ("x[i+1] - x[i-2]", "x[2*i] - x[i-2]",
         "ring.toml:10: equations.x: index 2 * i is not of the form i + k or k at column 4 (an index is i + k, i - k or k with a whole number k)"),
        ("x[i+1] - x[i-2]", "x[i+0.5] - x[i-2]",
         "ring.toml:10: equations.x: index i + 0.5 is not of the form i + k or k at column 4 (an index is i + k, i - k or k with a whole number k)"),
        ("x[i+1] - x[i-2]", "x[i+F] - x[i-2]",
         "ring.toml:10: equations.x: 'F' cannot appear in an index at column 4 (an index is i + k, i - k or k with a whole number k)"),
        ("x[i+1] - x[i-2]", "x - x[i-2]",
         "ring.toml:10: equations.x: 'x' is an array and needs an index at column 2 (read one element as x[i], x[i+1] or x[0], all of them with sum(x) or mean(x))"),
        ("x[i+1] - x[i-2]", "x[i+1 - x[i-2]", "ring.toml:10: equations.x: unexpected ')' at column 16 (expected ']' or an operator)"),
        ("+ z*sin(t)", "+ z[0]*sin(t)",
         "ring.toml:10: equations.x: 'z' is not an array and cannot be indexed at column 42 (arrays are the variables given a size under [dimensions])"),
        ("x[0] * x[7]", "x[0] * x[8]", "ring.toml:11: equations.z: x[8] is outside x[0] … x[7] at column 13 (an array of 8 sites)"),
        ("x[0] * x[7]", "x[i] * x[7]",
         "ring.toml:11: equations.z: x[i…] reads relative to a site, but this expression has none at column 6 (read one element as x[k], or all with sum(x))"),
        ("x[0] * x[7]", "i * x[7]",
         "ring.toml:11: equations.z: 'i' cannot be used here at column 6 (an equation may use t, the variables and the parameters, and an array's equation the site index i)"),
        ("x[0] * x[7]", "sum(x)",
         "ring.toml:11: equations.z: sum(…) and mean(…) may appear in invariants only at column 6 (an equation reads single sites: x[i], x[i+1], x[0])"),
        // Invariants and initial values.
        ("\"sum(x) + z\"", "\"sum(z) + z\"",
         "ring.toml:23: invariants.total: sum(…) takes the name of an array variable at column 5 (e.g. sum(u) for the sites u[0] … u[n-1])"),
        ("\"mean(x)\"", "\"x[i+1]\"",
         "ring.toml:24: invariants.average: x[i…] reads relative to a site, but this expression has none at column 1 (read one element as x[k], or all with sum(x))"),
        ("x = \"F + 0.01*sin(i)\"", "x = [1, 2, 3]",
         "ring.toml:13: initial.x: expected 8 values, one per site of x, got 3 (or give one expression of the site index i)"),
        ("x = \"F + 0.01*sin(i)\"", "x = \"F + x[0]\"",
         "ring.toml:13: initial.x: 'x' cannot be used here at column 5 (an array's initial value may use the site index i, numbers and parameters)"),
        ("x = \"F + 0.01*sin(i)\"", "x = \"log(i - 3)\"", "ring.toml:13: initial.x: evaluates to -nan at site i = 0"),
        ("z = 0.5", "z = \"i\"",
         "ring.toml:14: initial.z: 'i' cannot be used here at column 1 (only numbers, pi, e and parameters may appear here)"),
        ("F = 8", "i = 8",
         "ring.toml:8: parameters.i: 'i' is reserved in a problem with arrays (i is the site index and n_<array> the number of sites)"),
        ("F = 8", "n_x = 8",
         "ring.toml:8: parameters.n_x: 'n_x' is reserved in a problem with arrays (i is the site index and n_<array> the number of sites)"),
    ])
    func mistakesNameFileLineAndKey(old: String, new: String, message: String) {
        #expect(arrayError(mixed(old, new)) == message)
    }

    @Test func periodicOffsetOfAWholeTurnIsRefused() {
        let text = mixed("x = \"zero\"", "x = \"periodic\"").replacingOccurrences(of: "x[i+1] - x[i-2]", with: "x[i+1] - x[i-8]")
        #expect(arrayError(text) == "ring.toml:10: equations.x: x[i-8] reads x[-8] at site i = 0, which wraps around x[0] … x[7] more than once at column 11 (a stencil offset must be smaller than the 8 sites of x)")
    }

    /// A site of x reads the neighbours of arrays of its own size only (else x[7] would read y[7] of 4 sites).
    @Test func neighboursOfAnArrayOfAnotherSizeAreRefused() {
        let text = mixed("variables = [\"x\", \"z\"]", "variables = [\"x\", \"z\", \"y\"]")
            .replacingOccurrences(of: "x = 8\n", with: "x = 8\ny = 4\n")
            .replacingOccurrences(of: "x = \"zero\"\n", with: "x = \"zero\"\ny = \"periodic\"\n")
            .replacingOccurrences(of: "z = \"-z + x[0] * x[7]\"", with: "z = \"-z + x[0] * x[7]\"\ny = \"-y[i] + x[3]\"")
            .replacingOccurrences(of: "z = 0.5\n", with: "z = 0.5\ny = 0\n")
            .replacingOccurrences(of: "z = [0, 1]", with: "z = [0, 1]\ny = [0, 1]")
        #expect(arrayError(text) == nil)
        #expect(arrayError(text.replacingOccurrences(of: "+ F + z*sin(t)", with: "+ F + y[i+1]")) ==
                "ring.toml:12: equations.x: y[i…] in the equation of x: y has 4 sites and x 8 at column 41 (a site reads the neighbours of arrays of its own size; read other arrays as y[k])")
        #expect(arrayError(text.replacingOccurrences(of: "x[i+1] - x[i-2]", with: "x[x[0]] - x[i-2]")) ==
                "ring.toml:12: equations.x: 'x[…]' cannot appear in an index at column 4 (an index is i + k, i - k or k with a whole number k)")
    }

    @Test func totalStateIsBoundedByTheVariableLimit() {
        // 1999 sites and z: 2000 components, the limit; one site more is refused (above).
        #expect(arrayError(mixed("x = 8", "x = 1999")) == nil)
    }
}
