// Every catalog problem integrated with its own [reference] settings: exact solutions and invariants met within
// 100 × rtol, and the stiff problems solved by msbdf and bsimp with the symbolically derived Jacobian.
import Experiments
import Foundation
import Problems
import Reference
import Testing

/// The repository's catalog, whatever the working folder of the test run.
private func loadFromCatalog(_ name: String) throws -> Problem {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("problems")
    return try Catalog.load(folder.appendingPathComponent("\(name).toml").path)
}

private let catalogNames: [String] = {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("problems")
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return files.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()
}()

@Suite struct CatalogReferenceTests {
    @Test func catalogIsThere() {
        #expect(catalogNames.count >= 15, "\(catalogNames)")
    }

    /// Exact solutions within 100 × (atol + rtol·|y|) at every output; invariants within 100 × rtol (relative).
    /// The problems with something to check against (an exact solution or an invariant); the others are listed
    /// by `catalogIsThere`'s count, not silently passed.
    static let checkable = catalogNames.filter { name in
        (try? loadFromCatalog(name)).map { $0.hasExactSolution || !$0.invariants.isEmpty } ?? true
    }

    @Test(arguments: checkable)
    func defaultMethodMeetsExactSolutionAndInvariants(name: String) throws {
        let problem = try loadFromCatalog(name)
        let result = try ReferenceRun.run(problem)
        #expect(result.solution.failure == nil, "\(name): \(result.solution.failure.map { "\($0)" } ?? "")")
        #expect(result.solution.times.last == problem.time.end)
        if problem.hasExactSolution {
            let error = try #require(result.exactErrorInTolerances)
            #expect(error < 100, "\(name): error vs exact is \(error) × (atol + rtol·|y|)")
        }
        let bound = 100 * problem.reference.relativeTolerance
        for (invariant, drift) in result.invariantDrifts {
            #expect(drift < bound, "\(name): \(invariant) drifts by \(drift) (relative), bound \(bound)")
        }
    }

    @Test(arguments: ["robertson", "van-der-pol-stiff"], [StepperKind.msbdf, .bsimp])
    func stiffProblemsSolvedByImplicitSteppersWithDerivedJacobian(name: String, stepper: StepperKind) throws {
        var problem = try loadFromCatalog(name)
        problem.reference.method = stepper.rawValue
        let result = try ReferenceRun.run(problem)
        #expect(result.solution.failure == nil, "\(name) \(stepper): \(result.solution.failure.map { "\($0)" } ?? "")")
        #expect(result.solution.times.last == problem.time.end)
        #expect(result.solution.statistics.jacobianEvaluations > 0)
        let bound = 100 * problem.reference.relativeTolerance
        for (invariant, drift) in result.invariantDrifts {
            #expect(drift < bound, "\(name) \(stepper): \(invariant) drifts by \(drift), bound \(bound)")
        }
    }

    @Test func stiffSolversAgreeOnRobertson() throws {
        // Robertson's y2 peaks near 3.65e-5 around t ≈ 0.04 and the reaction is far from done at the end:
        // msbdf and bsimp, each to rtol, must agree on the final state to a small multiple of the tolerances.
        var problem = try loadFromCatalog("robertson")
        let finals = try [StepperKind.msbdf, .bsimp].map { stepper in
            problem.reference.method = stepper.rawValue
            let solution = try ReferenceRun.run(problem).solution
            return Array(solution.state(solution.times.count - 1))
        }
        for i in 0..<3 {
            let scale = problem.reference.absoluteTolerance + problem.reference.relativeTolerance * abs(finals[0][i])
            #expect(abs(finals[0][i] - finals[1][i]) < 1000 * scale, "y\(i + 1): \(finals[0][i]) vs \(finals[1][i])")
        }
    }

    @Test func setOverridesReachTheSolver() throws {
        // Exponential decay with a different rate and initial value still meets its exact solution.
        let result = try ReferenceRun.run(ReferenceRunConfiguration(problem: try loadFromCatalog("exponential-decay")
            .file!.path, overrides: [], endTime: 2))
        #expect(result.solution.times.last == 2)
        let problem = try loadFromCatalog("exponential-decay")
        let parameter = try #require(problem.parameters.keys.sorted().first)
        let variable = problem.variables[0]
        let overridden = try ReferenceRun.run(ReferenceRunConfiguration(
            problem: problem.file!.path, overrides: [ParameterOverride(name: parameter, value: 2 * problem.parameters[parameter]!),
                                                ParameterOverride(name: variable, value: 3)],
            endTime: 2))
        #expect(overridden.solution.states[0] == 3)
        #expect(overridden.solution.states.last != result.solution.states.last)
        #expect(try #require(overridden.exactErrorInTolerances) < 100)
    }
}
