// The largest Lyapunov exponent of Lorenz-96 (40 sites, F = 8) through the array problem's band Jacobian: a short
// measurement against the published 1.68 (the README reports the long one).
@testable import Experiments
import Foundation
import Problems
import Testing

@Suite struct ArrayLyapunovTests {
    /// 500 time units (about 840 Lyapunov times) after a transient of 50: the estimate lies within four standard
    /// errors of its own segment spread of 1.68 (Vlachas et al. 2020 table 2; Karimi and Paul 2010), plus 0.01 for
    /// the rounding of the published value; and the spread itself is small enough for the check to mean something.
    @Test func lorenz96ExponentMatchesTheLiterature() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("problems")
        let problem = try Catalog.load(folder.appendingPathComponent("lorenz96.toml").path)
        #expect(problem.lyapunov == 1.68)
        var options = LyapunovOptions()
        options.transient = 50
        options.duration = 500
        let estimate = try Lyapunov.estimate(problem, options: options)
        let lambda = estimate.exponents[0], error = estimate.standardErrors[0]
        #expect(error < 0.1 * 1.68, "standard error \(error)")
        #expect(abs(lambda - 1.68) <= 4 * error + 0.01, "λ₁ = \(lambda) ± \(error)")
    }
}
