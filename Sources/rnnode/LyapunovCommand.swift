// `rnnode lyapunov`: the largest Lyapunov exponents of a problem by Benettin's method, with a convergence error.
import ArgumentParser
import Experiments
import Foundation
import Problems
import Reference

struct LyapunovCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lyapunov",
        abstract: "Estimate the largest Lyapunov exponents of a problem (Benettin's method on the variational equations).",
        discussion: """
            GSL integrates the problem with its variational equations dQ/dt = J·Q (J the symbolic Jacobian) and \
            re-orthonormalises Q every --interval time units; λ_k is the mean of log R_kk per unit time after \
            --transient. The ± is the standard error over --segments equal parts of the measurement: how far the \
            estimate may still move, not a bound. Exponents are per time unit of the problem.
            """
    )

    @Argument(help: "A catalog name (see `rnnode problems`) or a path to a .toml problem file.")
    var problem: String

    @Option(name: .customLong("set"), parsing: .singleValue,
            help: ArgumentHelp("Override a parameter or an initial value (x or x_0); repeatable.", valueName: "NAME=VALUE"))
    var settings: [String] = []

    @Option(help: "How many of the largest exponents to compute.")
    var exponents: Int = 1

    @Option(name: .customLong("t-end"), help: "Measurement time after the transient.")
    var tEnd: Double = LyapunovOptions().duration

    @Option(help: "Time integrated before measuring.")
    var transient: Double = LyapunovOptions().transient

    @Option(help: "Time between re-orthonormalisations.")
    var interval: Double = LyapunovOptions().interval

    @Option(help: "Segments of the measurement whose spread gives the convergence error (at least 2).")
    var segments: Int = LyapunovOptions().segments

    @Option(help: "GSL stepper (default rk8pd, or the problem's implicit method when it has one).")
    var method: StepperKind?

    @Option(help: "Seed of the random start of the tangent vectors.")
    var seed: UInt64 = 1

    mutating func validate() throws {
        _ = try ReferenceCommand.parseSettings(settings)
        guard (1...10_000).contains(exponents) else { throw ValidationError("--exponents must be between 1 and 10000, not \(exponents)") }
        guard (2...10_000).contains(segments) else { throw ValidationError("--segments must be between 2 and 10000, not \(segments)") }
        guard transient.isFinite, transient >= 0 else { throw ValidationError("--transient must be a finite number ≥ 0") }
        guard tEnd.isFinite, tEnd > 0 else { throw ValidationError("--t-end must be a positive finite number") }
        guard interval.isFinite, interval > 0 else { throw ValidationError("--interval must be a positive finite number") }
    }

    func run() throws {
        let loaded = try Catalog.load(problem).applying(try ReferenceCommand.parseSettings(settings))
        var options = LyapunovOptions()
        options.exponents = exponents; options.duration = tEnd; options.transient = transient
        options.interval = interval; options.segments = segments; options.stepper = method; options.seed = seed
        let started = ContinuousClock.now
        let estimate: LyapunovEstimate
        do { estimate = try Lyapunov.estimate(loaded, options: options) } catch let error as LyapunovError {
            throw ValidationError(error.description)
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        var lines = ["# \(loaded.name): \(estimate.stepper.rawValue), transient \(transient), measured over \(tEnd) "
                     + "in \(segments) segments, re-orthonormalised every \(interval)"]
        lines.append("k,lambda,standard_error")
        for (j, lambda) in estimate.exponents.enumerated() {
            lines.append("\(j + 1),\(lambda),\(estimate.standardErrors[j])")
        }
        print(lines.joined(separator: "\n"))
        var summary = "\(loaded.name): λ₁ = \(String(format: "%.4f", estimate.exponents[0])) ± "
            + "\(String(format: "%.4f", estimate.standardErrors[0])) per time unit"
        if let declared = loaded.lyapunov { summary += " (the file declares \(declared))" }
        if let dimension = estimate.kaplanYorkeDimension { summary += "; Kaplan–Yorke dimension \(String(format: "%.3f", dimension))" }
        summary += "; \(estimate.evaluations) RHS evaluations, \(String(format: "%.2f", seconds)) s\n"
        FileHandle.standardError.write(Data(summary.utf8))
    }
}
