// Every catalog file: parses, its symbolic Jacobian matches central differences, its exact solution satisfies
// the equations and its invariants are conserved by the vector field.
import Foundation
import Testing
@testable import Problems

/// The catalog files, found from the package root (the working directory of `swift test`) or this file's place.
let catalogNames: [String] = {
    if let names = try? Catalog.names(), !names.isEmpty { return names }
    return []
}()

/// A point drawn from the problem's sampling box (or near its initial state when it has none).
func randomState(_ problem: Problem, using generator: inout SeededGenerator) -> [Double] {
    if let box = problem.sampling {
        return box.map { range in range.lowerBound == range.upperBound ? range.lowerBound : Double.random(in: range, using: &generator) }
    }
    return problem.initial.map { $0 + Double.random(in: -0.1...0.1, using: &generator) }
}

@Suite struct CatalogTests {
    @Test func catalogHoldsTheIssueProblems() throws {
        let expected = ["arenstorf", "brusselator", "damped-driven-pendulum", "double-pendulum", "duffing",
                        "exponential-decay", "harmonic-oscillator", "kepler", "lorenz", "lotka-volterra", "pendulum",
                        "robertson", "sir", "van-der-pol", "van-der-pol-stiff",
                        "lorenz96", "kuramoto-sivashinsky", "heat", "burgers"]
        #expect(Set(expected).isSubset(of: Set(try Catalog.names())))
        for chaotic in ["lorenz", "duffing", "damped-driven-pendulum", "double-pendulum", "lorenz96", "kuramoto-sivashinsky"] {
            #expect(try Catalog.load(chaotic).lyapunov ?? 0 > 0, "\(chaotic) is chaotic: give its Lyapunov exponent")
        }
        for (array, sites) in [("lorenz96", 40), ("kuramoto-sivashinsky", 64), ("heat", 32), ("burgers", 64)] {
            #expect(try Catalog.load(array).arrayVariables.map(\.count) == [sites], "\(array)")
        }
        #expect(try Catalog.load("heat").hasExactSolution)
        for stiff in ["van-der-pol-stiff", "robertson", "kuramoto-sivashinsky"] {
            #expect(["msbdf", "bsimp"].contains(try Catalog.load(stiff).reference.method), "\(stiff) needs an implicit method")
        }
    }

    @Test(arguments: catalogNames)
    func fileParsesAndIsComplete(name: String) throws {
        let problem = try Catalog.load(name)
        #expect(problem.name == name, "the name key must equal the file stem")
        #expect(problem.file?.lastPathComponent == "\(name).toml")
        #expect(problem.dimension == problem.initial.count)
        #expect(problem.sampling?.count == problem.dimension, "every catalog problem has a sampling box")
        #expect(problem.time.step > 0 && problem.time.end > problem.time.start)
        #expect((problem.time.end - problem.time.start) / problem.time.step >= 100, "at least 100 output steps")
        #expect(ReferenceSettings.methods.contains(problem.reference.method))
        let text = try String(contentsOf: problem.file!, encoding: .utf8)
        #expect(text.hasPrefix("#"), "the file opens with its literature source in a comment")
        let f = problem.vectorField.evaluate(t: problem.time.start, state: problem.initial)
        #expect(f.allSatisfy { $0.isFinite })
    }

    @Test(arguments: catalogNames)
    func symbolicJacobianMatchesCentralDifferences(name: String) throws {
        let problem = try Catalog.load(name)
        let field = problem.vectorField
        let d = problem.dimension
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<4 {
            let y = randomState(problem, using: &generator)
            let t = Double.random(in: problem.time.start...problem.time.end, using: &generator)
            let (dfdy, dfdt) = field.jacobian(t: t, state: y)
            for j in 0..<d {
                let h = 1e-6 * max(1, abs(y[j]))
                var plus = y, minus = y
                plus[j] += h; minus[j] -= h
                let fp = field.evaluate(t: t, state: plus), fm = field.evaluate(t: t, state: minus)
                for i in 0..<d {
                    let numeric = (fp[i] - fm[i]) / (2 * h)
                    let scale = max(1, abs(numeric), abs(fp[i]) / max(1, abs(y[j])))
                    #expect(abs(dfdy[i * d + j] - numeric) <= 1e-5 * scale,
                            "\(name): df\(i)/dy\(j) at \(y): \(dfdy[i * d + j]) vs \(numeric)")
                }
            }
            let h = 1e-6 * max(1, abs(t))
            let fp = field.evaluate(t: t + h, state: y), fm = field.evaluate(t: t - h, state: y)
            for i in 0..<d {
                let numeric = (fp[i] - fm[i]) / (2 * h)
                #expect(abs(dfdt[i] - numeric) <= 1e-5 * max(1, abs(numeric)), "\(name): df\(i)/dt: \(dfdt[i]) vs \(numeric)")
            }
        }
    }

    @Test(arguments: catalogNames)
    func invariantsAreConservedByTheVectorField(name: String) throws {
        let problem = try Catalog.load(name)
        var generator = SeededGenerator(seed: 7)
        for (invariantName, invariant) in problem.invariants {
            for _ in 0..<5 {
                let y = randomState(problem, using: &generator)
                let t = Double.random(in: problem.time.start...problem.time.end, using: &generator)
                let f = problem.vectorField.evaluate(t: t, state: y)
                // dI/dt = ∇_y I · f + ∂I/∂t, from the symbolic gradient of the invariant.
                let values = y + [t]
                var rate = invariant.derivative(withRespectTo: problem.dimension).evaluate(values)
                var size = 0.0
                for j in 0..<problem.dimension {
                    let term = invariant.derivative(withRespectTo: j).evaluate(values) * f[j]
                    rate += term
                    size = max(size, abs(term))
                }
                #expect(abs(rate) <= 1e-12 * max(1, size), "\(name): d\(invariantName)/dt = \(rate) at \(y)")
            }
        }
    }

    @Test(arguments: catalogNames)
    func exactSolutionSatisfiesTheEquations(name: String) throws {
        let problem = try Catalog.load(name)
        guard problem.hasExactSolution else { return }
        let start = try #require(problem.exactState(at: problem.time.start))
        for (a, b) in zip(start, problem.initial) { #expect(abs(a - b) <= 1e-14 * max(1, abs(b)), "\(name): y(t0) = y0") }
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<5 {
            let t = Double.random(in: problem.time.start...problem.time.end, using: &generator)
            let h = 1e-5
            let y = try #require(problem.exactState(at: t))
            let plus = try #require(problem.exactState(at: t + h)), minus = try #require(problem.exactState(at: t - h))
            let f = problem.vectorField.evaluate(t: t, state: y)
            for i in 0..<problem.dimension {
                let derivative = (plus[i] - minus[i]) / (2 * h)
                #expect(abs(derivative - f[i]) <= 1e-7 * max(1, abs(f[i])), "\(name): d\(problem.variables[i])/dt")
            }
        }
    }
}

@Suite struct CatalogLookupTests {
    @Test func unknownNameListsTheKnownOnes() throws {
        do {
            _ = try Catalog.load("lorenz63")
            Issue.record("expected an error")
        } catch let error as ProblemError {
            #expect(error.message == "unknown problem 'lorenz63'")
            #expect(error.hint?.hasPrefix("did you mean 'lorenz'? known problems: arenstorf, brusselator") == true)
        }
    }

    @Test func loadsByPath() throws {
        let directory = try Catalog.directory()
        let problem = try Catalog.load(directory.appendingPathComponent("lorenz.toml").path)
        #expect(problem.name == "lorenz")
        #expect(problem.dimension == 3)
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ProblemError.self) { try Catalog.load("no/such/file.toml") }
    }

    @Test func lorenzMatchesTheIssueExample() throws {
        let lorenz = try Catalog.load("lorenz")
        #expect(lorenz.variables == ["x", "y", "z"])
        #expect(lorenz.parameters == ["sigma": 10, "rho": 28, "beta": 8.0 / 3])
        #expect(lorenz.lyapunov == 0.9056)
        #expect(lorenz.transient == 10)
        #expect(lorenz.reference == ReferenceSettings(method: "rk8pd", relativeTolerance: 1e-10, absoluteTolerance: 1e-10))
        let beta = 8.0 / 3
        let expected: [Double] = [10 * (2 - 1), 1 * (28 - 3) - 2, 1 * 2 - beta * 3]
        #expect(lorenz.vectorField.evaluate(t: 0, state: [1, 2, 3]) == expected)
    }
}

@Suite struct NativeBackendTests {
    /// The compiled C and the interpreted program do the same operations in the same order: equal to the bit.
    /// Skipped (and reported as skipped) without a C compiler or with RNNODE_NATIVE=0.
    @Test(.enabled(if: nativeBackendExpected, "needs a C compiler and RNNODE_NATIVE unset"), arguments: catalogNames)
    func nativeMatchesInterpreted(name: String) throws {
        let field = try Catalog.load(name).vectorField
        try #require(field.backend == "native", "\(name): \(field.backend)")
        let problem = try Catalog.load(name)
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<5 {
            let y = randomState(problem, using: &generator)
            let t = Double.random(in: problem.time.start...problem.time.end, using: &generator)
            #expect(field.evaluate(t: t, state: y) == field.evaluateInterpreted(t: t, state: y), "\(name) f at \(y)")
            let native = field.jacobian(t: t, state: y), interpreted = field.jacobianInterpreted(t: t, state: y)
            #expect(native.dfdy == interpreted.dfdy && native.dfdt == interpreted.dfdt, "\(name) Jacobian at \(y)")
        }
    }

    @Test func translationReadsLikeTheEquations() throws {
        let lorenz = try Catalog.load("lorenz")
        let f = lorenz.vectorField.equations.map(\.node)
        let source = NativeCode.translate(rightHandSide: f, jacobian: [], dimension: 3)
        #expect(source.contains("f[0] = (10.0 * (y[1] - y[0]));"))
        #expect(source.contains("f[2] = ((y[0] * y[1]) - (2.6666666666666665 * y[2]));"))
    }
}
