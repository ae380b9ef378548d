// The largest Lyapunov exponent a solve run scales its VPT by: the problem file's, or, when it declares none (and
// after every `--set`), Benettin's estimate with the default options, cached as a small JSON beside the data.
import Foundation
import Problems
import Support

/// Where a run's exponent came from and how sure it is.
public struct LargestExponent: Sendable, Equatable {
    public enum Source: String, Sendable { case declared, computed, cached }
    public var value: Double
    /// The convergence error of a computed value (standard error over segments); nil for a declared one.
    public var standardError: Double?
    public var source: Source

    /// Whether the exponent is positive beyond its convergence error (λ > 3·SE), so that Lyapunov times mean
    /// something: a regular orbit's exponent is 0, and its estimate a small number of either sign.
    public var isPositive: Bool { value > 0 && value > 3 * (standardError ?? 0) }
}

public enum ExponentCache {
    /// The file's exponent when it declares one; otherwise the cached or newly computed estimate. A failed estimate
    /// is not an error of the run: it returns nil with the reason in `note`.
    public static func largestExponent(of problem: Problem, cacheDirectory: URL?, options: LyapunovOptions = .init(),
                                       note: (String) -> Void) -> LargestExponent? {
        if let declared = problem.lyapunov { return LargestExponent(value: declared, standardError: nil, source: .declared) }
        let key = self.key(problem, options: options)
        let url = cacheDirectory?.appendingPathComponent("\(problem.name)-lyapunov-\(key).json")
        if let url, let data = FileManager.default.contents(atPath: url.path) {
            if let entry = try? JSONDecoder().decode(Entry.self, from: data), entry.key == key {
                return LargestExponent(value: entry.exponent, standardError: entry.standardError, source: .cached)
            }
            note("\(url.path): not a Lyapunov cache entry; computing the exponent again")
        }
        let clock = ContinuousClock()
        let started = clock.now
        let estimate: LyapunovEstimate
        do {
            estimate = try Lyapunov.estimate(problem, options: options)
        } catch {
            note("\(problem.name): no Lyapunov exponent (\(error)); vpt_lyapunov is left out")
            return nil
        }
        let result = LargestExponent(value: estimate.exponents[0], standardError: estimate.standardErrors[0], source: .computed)
        if let url {
            let entry = Entry(problem: problem.name, key: key, exponent: result.value, standardError: estimate.standardErrors[0],
                              seconds: (clock.now - started).seconds, options: optionsDescription(options))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do { try AtomicFile.write(try encoder.encode(entry), to: url) } catch { note("Lyapunov exponent not cached: \(error)") }
        }
        return result
    }

    /// Hash of the problem as the data cache specifies it (file text, parameters after `--set`, initial values,
    /// time, reference) and of the options.
    static func key(_ problem: Problem, options: LyapunovOptions) -> String {
        let text = problem.file.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
        let specification = DataSpecification(problem: problem, problemText: text, counts: [:], seed: 0)
        return StableHash.hex("lyapunov format 1\n" + specification.description + "\n" + optionsDescription(options))
    }

    static func optionsDescription(_ o: LyapunovOptions) -> String {
        "exponents=\(o.exponents) transient=\(CSV.format(o.transient)) duration=\(CSV.format(o.duration)) "
            + "interval=\(CSV.format(o.interval)) segments=\(o.segments) stepper=\(o.stepper?.rawValue ?? "default") seed=\(o.seed)"
    }

    struct Entry: Codable {
        var problem: String
        var key: String
        var exponent: Double
        var standardError: Double
        var seconds: Double
        var options: String
    }
}
