// The array problems through GSL: the heat equation against its semi-discrete exact solution with an implicit
// stepper and the symbolic band Jacobian, and Kuramoto-Sivashinsky by two implicit steppers that must agree.
import Experiments
import Foundation
import Problems
import Reference
import Testing

private func catalogProblem(_ name: String) throws -> Problem {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("problems")
    return try Catalog.load(folder.appendingPathComponent("\(name).toml").path)
}

@Suite struct ArrayReferenceTests {
    /// bsimp (Bader-Deuflhard extrapolation with the Jacobian) meets the exact solution of the 32 coupled sites
    /// within 100 × (atol + rtol·|u|) at every output, as the catalog test asks of the default rk8pd.
    @Test func heatMeetsItsExactSolutionWithTheSymbolicJacobian() throws {
        var problem = try catalogProblem("heat")
        problem.reference.method = StepperKind.bsimp.rawValue
        let result = try ReferenceRun.run(problem)
        #expect(result.solution.failure == nil)
        #expect(result.solution.statistics.jacobianEvaluations > 0)
        let error = try #require(result.exactErrorInTolerances)
        #expect(error < 100, "error vs exact is \(error) × (atol + rtol·|u|)")
    }

    /// Over t ≤ 10 (half a Lyapunov time) the two implicit steppers, each to rtol = atol = 1e-9, stay within a
    /// small multiple of the tolerances of each other, and both conserve sum(u) (exact for the discrete equations).
    @Test func kuramotoSivashinskyStiffSteppersAgree() throws {
        var problem = try catalogProblem("kuramoto-sivashinsky")
        problem.time.end = 10
        var finals: [[Double]] = []
        for stepper in [StepperKind.msbdf, .bsimp] {
            problem.reference.method = stepper.rawValue
            let result = try ReferenceRun.run(problem)
            #expect(result.solution.failure == nil, "\(stepper)")
            #expect(result.solution.statistics.jacobianEvaluations > 0, "\(stepper)")
            let solution = result.solution
            for k in solution.times.indices {
                let state = solution.state(k)
                let size = state.reduce(0) { $0 + abs($1) }
                #expect(abs(state.reduce(0, +)) < 1e-7 * size, "\(stepper): sum(u) at t = \(solution.times[k])")
            }
            finals.append(Array(solution.state(solution.times.count - 1)))
        }
        for i in 0..<64 {
            #expect(abs(finals[0][i] - finals[1][i]) < 1000 * 1e-9 * max(1, abs(finals[0][i])), "u[\(i)]")
        }
    }
}
