// Lyapunov exponents by Benettin's method: exact linear cases, the Lorenz-63 spectrum against the literature and
// its trace identity, and the catalog's declared exponents reproduced.
@testable import Experiments
import Foundation
import Problems
import Testing

private let problemsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("problems")

private func catalogProblem(_ name: String) throws -> Problem {
    try Catalog.load(problemsFolder.appendingPathComponent("\(name).toml").path)
}

@Suite struct LyapunovTests {
    /// y' = −k y: every tangent vector shrinks by e^{−kτ} per interval, so λ = −k up to the integrator's tolerance.
    @Test func exponentialDecayHasExponentMinusK() throws {
        let problem = try catalogProblem("exponential-decay")
        var options = LyapunovOptions()
        options.transient = 0; options.duration = 20; options.interval = 0.5
        let estimate = try Lyapunov.estimate(problem, options: options)
        let k = try #require(problem.parameters["k"])
        // Each interval's log R is −kτ to within the relative tolerance of the tangent (1e-10 here): 1e-8 is loose.
        #expect(abs(estimate.exponents[0] + k) < 1e-8, "\(estimate.exponents)")
        #expect(estimate.standardErrors[0] < 1e-8)
    }

    /// Lorenz-63 at σ = 10, ρ = 28, β = 8/3: λ₁ = 0.9056 (Sprott 2003, Chaos and Time-Series Analysis, table A.1),
    /// λ₂ = 0, and λ₁ + λ₂ + λ₃ = tr J = −(σ + 1 + β) exactly, since Σ log R_kk = log |det Φ| = ∫ tr J dt.
    @Test func lorenzSpectrumMatchesTheLiteratureAndTheTrace() throws {
        let problem = try catalogProblem("lorenz")
        var options = LyapunovOptions()
        options.exponents = 3
        let estimate = try Lyapunov.estimate(problem, options: options)
        let lambda = estimate.exponents
        #expect(abs(lambda[0] - 0.9056) < 0.01 * 0.9056, "λ₁ = \(lambda[0]) ± \(estimate.standardErrors[0])")
        #expect(abs(lambda[1]) < 4 * estimate.standardErrors[1] + 1e-3, "λ₂ = \(lambda[1])")
        let sigma = problem.parameters["sigma"]!, beta = problem.parameters["beta"]!
        let trace = -(sigma + 1 + beta)
        // The identity holds up to the integration error of the tangent volume (rtol 1e-10 per interval).
        #expect(abs(lambda.reduce(0, +) - trace) < 1e-6 * abs(trace), "Σλ = \(lambda.reduce(0, +)) vs \(trace)")
        #expect(estimate.kaplanYorkeDimension.map { abs($0 - 2.06) < 0.01 } == true)
    }

    /// Every declared exponent in the catalog is reproduced within four standard errors of the measurement plus
    /// the rounding of the declared value (its last digit).
    @Test(arguments: ["damped-driven-pendulum", "double-pendulum", "duffing", "lorenz"])
    func declaredExponentsAreReproduced(name: String) throws {
        let problem = try catalogProblem(name)
        let declared = try #require(problem.lyapunov)
        var options = LyapunovOptions()
        options.duration = 10_000
        let estimate = try Lyapunov.estimate(problem, options: options)
        let rounding = 0.005
        #expect(abs(estimate.exponents[0] - declared) <= 4 * estimate.standardErrors[0] + rounding,
                "\(name): \(estimate.exponents[0]) ± \(estimate.standardErrors[0]) vs declared \(declared)")
    }

    @Test func orthonormalizationReturnsOrthonormalColumnsAndTheirStretch() {
        // Columns (3, 4, 0) and (1, 1, 1): R₁₁ = 5; the second column minus its projection (7/5)·(3/5, 4/5, 0).
        var vectors: [Double] = [3, 4, 0, 1, 1, 1]
        let logs = Lyapunov.orthonormalize(&vectors, dimension: 3, count: 2)
        let residual: [Double] = [1 - 21.0 / 25, 1 - 28.0 / 25, 1]
        let r22 = residual.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(abs(logs[0] - log(5)) < 4 * Double.ulpOfOne && abs(logs[1] - log(r22)) < 8 * Double.ulpOfOne)
        let dot = zip(vectors[0..<3], vectors[3..<6]).map(*).reduce(0, +)
        #expect(abs(dot) < 4 * Double.ulpOfOne)
    }

    @Test func badOptionsAreErrors() throws {
        let problem = try catalogProblem("lorenz")
        var options = LyapunovOptions()
        options.exponents = 4
        #expect(throws: LyapunovError.self) { try Lyapunov.estimate(problem, options: options) }
        options = LyapunovOptions(); options.interval = .nan
        #expect(throws: LyapunovError.self) { try Lyapunov.estimate(problem, options: options) }
        options = LyapunovOptions(); options.duration = 5
        #expect(throws: LyapunovError.self) { try Lyapunov.estimate(problem, options: options) }
    }
}
