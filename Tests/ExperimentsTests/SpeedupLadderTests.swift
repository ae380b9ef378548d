// The accuracy-matched speed-up: the tolerance ladder, the choice of its rung, and a real match against GSL
// (timings are measured, never asserted); and the largest Lyapunov exponent a run computes and caches.
import Foundation
import Testing
@testable import Experiments
import Problems
import Reference

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct ToleranceLadderTests {
    @Test func rungsRunFromOneHundredthDownToTheReference() {
        let ladder = ToleranceLadder.rungs(tightest: 1e-10)
        #expect(ladder.count == 9 && ladder.first == 1e-2 && ladder.last == 1e-10)
        #expect(zip(ladder, ladder.dropFirst()).allSatisfy { abs($0 / $1 - 10) < 1e-9 })
        // A reference tolerance off the powers of ten is the last rung, after the last power looser than it.
        #expect(ToleranceLadder.rungs(tightest: 3e-9).suffix(2) == [1e-8, 3e-9])
        #expect(ToleranceLadder.rungs(tightest: 1e-2) == [1e-2])
        #expect(ToleranceLadder.rungs(tightest: 0.1) == [0.1])
    }

    @Test func aModelErrorBetweenTwoRungsPicksTheLooserValidRung() {
        let errors: [Double?] = [1e-1, 1e-3, 1e-5, 1e-7]
        var asked: [Int] = []
        let chosen = ToleranceLadder.matchingRung(count: 4, modelError: 1e-4) { asked.append($0); return errors[$0] }
        #expect(chosen == 2)
        #expect(asked == [0, 1, 2], "the ladder stops at the first rung as accurate as the model")
        // An error equal to the model's qualifies.
        #expect(ToleranceLadder.matchingRung(count: 4, modelError: 1e-3) { errors[$0] } == 1)
        // Errors need not fall monotonically: the loosest rung that qualifies wins.
        #expect(ToleranceLadder.matchingRung(count: 3, modelError: 1e-2) { [5e-3, 1.0, 1e-9][$0] } == 0)
    }

    @Test func aModelMoreAccurateThanEveryRungUsesTheTightest() {
        var asked: [Int] = []
        let chosen = ToleranceLadder.matchingRung(count: 4, modelError: 1e-12) { asked.append($0); return [1e-1, 1e-3, 1e-5, 1e-7][$0] }
        #expect(chosen == 3)
        #expect(asked == [0, 1, 2], "the tightest rung is the reference itself: its error is not needed")
        // A failed rung (nil) never qualifies.
        #expect(ToleranceLadder.matchingRung(count: 3, modelError: 1) { [nil, 1e-3, 0][$0] } == 1)
        #expect(ToleranceLadder.matchingRung(count: 1, modelError: 0) { _ in nil } == 0)
    }

    @Test func relativeErrorIsTheNormOfRelL2Final() {
        #expect(ToleranceLadder.relativeError([3, 4][...], reference: [0, 0][...]).isInfinite)
        #expect(abs(ToleranceLadder.relativeError([3, 5][...], reference: [3, 4][...]) - 0.2) < 1e-15)
    }

    /// Lorenz over five time units against a tight (1e-12) solve: the matched rung's own error is within the model
    /// error it was matched to, and a looser rung's is not.
    @Test func matchOnLorenzPicksARungAsAccurateAsTheModel() throws {
        let problem = try Catalog.load(packageRoot.appendingPathComponent("problems/lorenz.toml").path)
        let system = problem.odeSystem
        let start = problem.initial, t1 = 5.0, step = problem.time.step
        let tight = solve(system, initial: start, from: 0, to: t1, outputStep: step, stepper: .rk8pd,
                          tolerances: .init(absolute: 1e-12, relative: 1e-12))
        let final = tight.state(tight.times.count - 1)
        let reference = Tolerances(absolute: 1e-10, relative: 1e-10)
        func error(at rung: Double) -> Double {
            let run = solve(system, initial: start, from: 0, to: t1, outputStep: step, stepper: .rk8pd,
                            tolerances: .init(absolute: rung, relative: rung))
            return ToleranceLadder.relativeError(run.state(run.times.count - 1), reference: final)
        }
        let modelError = error(at: 1e-6)
        let match = ToleranceLadder.match(system: system, initial: start, from: 0, to: t1, step: step, stepper: .rk8pd,
                                          reference: reference, referenceSeconds: 1, referenceFinal: final, modelError: modelError)
        #expect(match.tolerance >= 1e-6, "a rung at least as loose as 1e-6 is as accurate as 1e-6 itself")
        #expect(error(at: match.tolerance) <= modelError)
        #expect(match.seconds.isFinite && match.seconds > 0)
        let ladder = ToleranceLadder.rungs(tightest: 1e-10)
        let index = try #require(ladder.firstIndex(of: match.tolerance))
        if index > 0 { #expect(error(at: ladder[index - 1]) > modelError, "the next looser rung is not accurate enough") }

        // Looser than any rung: the loosest; tighter than any: the reference with its own measured seconds.
        let loose = ToleranceLadder.match(system: system, initial: start, from: 0, to: t1, step: step, stepper: .rk8pd,
                                          reference: reference, referenceSeconds: 1, referenceFinal: final, modelError: .greatestFiniteMagnitude)
        #expect(loose.tolerance == 1e-2)
        let exact = ToleranceLadder.match(system: system, initial: start, from: 0, to: t1, step: step, stepper: .rk8pd,
                                          reference: reference, referenceSeconds: 0.125, referenceFinal: final, modelError: 0)
        #expect(exact == ToleranceLadder.Match(tolerance: 1e-10, seconds: 0.125))
    }
}

@Suite struct ExponentCacheTests {
    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnnode-exponent-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Exponential decay dy/dt = −k·y declares no exponent: the computed one is −k, cached, and not positive.
    @Test func undeclaredExponentIsComputedOnceThenReadFromTheCache() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let problem = try Catalog.load(packageRoot.appendingPathComponent("problems/exponential-decay.toml").path)
        #expect(problem.lyapunov == nil)
        var notes: [String] = []
        let computed = try #require(ExponentCache.largestExponent(of: problem, cacheDirectory: directory) { notes.append($0) })
        #expect(computed.source == .computed && notes.isEmpty, "\(notes)")
        let k = try #require(problem.parameters["k"] ?? problem.parameters.values.first)
        #expect(abs(computed.value + k) < 1e-8, "\(computed)")
        #expect(!computed.isPositive)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.count == 1 && files[0].hasPrefix("exponential-decay-lyapunov-") && files[0].hasSuffix(".json"), "\(files)")
        let cached = try #require(ExponentCache.largestExponent(of: problem, cacheDirectory: directory) { notes.append($0) })
        #expect(cached.source == .cached && cached.value == computed.value && cached.standardError == computed.standardError)
        // A changed parameter is another key: computed again, not read.
        let faster = try problem.applying([ParameterOverride(name: "k", value: 2 * k)])
        let other = try #require(ExponentCache.largestExponent(of: faster, cacheDirectory: directory) { notes.append($0) })
        #expect(other.source == .computed && abs(other.value + 2 * k) < 1e-8)
        // A damaged entry is computed again (with a note), never trusted.
        try Data("{".utf8).write(to: directory.appendingPathComponent(files[0]))
        let again = try #require(ExponentCache.largestExponent(of: problem, cacheDirectory: directory) { notes.append($0) })
        #expect(again.source == .computed && notes.contains { $0.contains("not a Lyapunov cache entry") })
    }

    @Test func aDeclaredExponentIsUsedAsIs() throws {
        let problem = try Catalog.load(packageRoot.appendingPathComponent("problems/lorenz.toml").path)
        let exponent = try #require(ExponentCache.largestExponent(of: problem, cacheDirectory: nil) { _ in })
        #expect(exponent == LargestExponent(value: 0.9056, standardError: nil, source: .declared) && exponent.isPositive)
    }

    @Test func positiveMeansBeyondThreeStandardErrors() {
        #expect(LargestExponent(value: 0.01, standardError: 0.001, source: .computed).isPositive)
        #expect(!LargestExponent(value: 0.002, standardError: 0.001, source: .computed).isPositive)
        #expect(!LargestExponent(value: -0.5, standardError: nil, source: .declared).isPositive)
    }
}
