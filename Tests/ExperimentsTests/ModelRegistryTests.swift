// The model registry (one registration per model, read by the CLI and the summaries), input noise of the ridge
// fits (seeded), and parallel local models (the partition, pooled statistics, g = 1 equals the single model).
import Foundation
import Testing
@testable import Experiments
import Recurrent

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func temporaryDirectory(_ name: String = #function) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("rnnode-models-\(name.filter(\.isLetter))-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Test func registryListsEveryModelOnceAndTheTablesFollowIt() {
    let names = ModelRegistry.names
    #expect(Set(names).count == names.count)
    #expect(ModelKind.allCases.map(\.rawValue) == names)
    #expect(names.contains("ngrc"))
    #expect(ModelKind(rawValue: "transformer") == nil)
    #expect(throws: SolveConfigurationError.self) { try ModelKind.parse("transformer") }
    #expect(SummaryMetric.columnOrder("solve") == names)
    for registration in ModelRegistry.all {
        #expect(!registration.knobs.isEmpty, "\(registration.name) has no tuning knobs")
        for knob in registration.knobs {
            #expect(knob.lower < knob.upper && (!knob.logarithmic || knob.lower > 0), "\(registration.name).\(knob.name)")
            // Each knob changes the configuration (and so the model's cache key) at one end of its range at least.
            let before = SolveConfiguration(problem: "lorenz", model: ModelKind(rawValue: registration.name)!)
            var low = before, high = before
            knob.apply(&low, knob.lower); knob.apply(&high, knob.upper)
            #expect(low != high && (low != before || high != before), "\(registration.name).\(knob.name) does not change the configuration")
        }
    }
    // Model settings reach the manifest and the cache key.
    var c = SolveConfiguration(problem: "lorenz", model: .ngrc)
    let key = c.settings
    c.ngrc.degree = 3
    #expect(c.settings != key && c.settings["degree"] == "3")
}

/// Smooth sequences of `d` components (a sine per component), as teacher-forcing data.
private func sineData(dimension d: Int, sequences: Int, steps: Int) -> TeacherForcing {
    var inputs: [[Double]] = [], targets: [[Double]] = []
    for s in 0..<sequences {
        var u: [Double] = [], g: [Double] = []
        for t in 0..<steps {
            for i in 0..<d {
                let phase = 0.05 * Double(t) + 0.7 * Double(i) + 1.3 * Double(s)
                u.append(sin(phase) + 0.3 * sin(2.1 * phase))
                g.append(cos(phase) + 0.63 * cos(2.1 * phase))
            }
        }
        inputs.append(u); targets.append(g)
    }
    return TeacherForcing(inputSize: d, outputSize: d, inputs: inputs, targets: targets)
}

@Test func inputNoiseIsSeededGaussianAndLeavesTheTargets() {
    let data = sineData(dimension: 3, sequences: 4, steps: 1000)
    let sigma = 0.01
    let a = data.addingNoise(sigma, seed: 3), b = data.addingNoise(sigma, seed: 3), other = data.addingNoise(sigma, seed: 4)
    #expect(a.inputs == b.inputs)
    #expect(a.inputs != other.inputs)
    #expect(a.targets == data.targets)
    #expect(data.addingNoise(0, seed: 3).inputs == data.inputs)
    // The noise n = 12000 draws: its sample variance is within 6 standard deviations (σ²·√(2/n)) of σ².
    let noise = zip(a.inputs.flatMap { $0 }, data.inputs.flatMap { $0 }).map { $0 - $1 }
    let n = Double(noise.count)
    let mean = noise.reduce(0, +) / n
    let variance = noise.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
    #expect(abs(variance / (sigma * sigma) - 1) < 6 * (2 / n).squareRoot())
    #expect(abs(mean) < 6 * sigma / n.squareRoot())
}

/// `--denoising`: the same input noise ε, and each target moved by −ε·ratio (the increment from the noisy input).
@Test func denoisingMovesEachTargetByTheInputNoiseTimesTheRatio() {
    let data = sineData(dimension: 3, sequences: 2, steps: 300)
    let ratio = [2.0, 0.5, 7.0]
    let plain = data.addingNoise(0.05, seed: 3), denoising = data.addingNoise(0.05, seed: 3, correctingTargets: ratio)
    #expect(denoising.inputs == plain.inputs)
    let u = Double.ulpOfOne / 2
    for s in data.inputs.indices {
        for k in data.inputs[s].indices {
            // ε is recovered as the rounded difference of the inputs (within u|u_noisy|); the target's update and
            // the check's subtraction round once each more.
            let epsilon = denoising.inputs[s][k] - data.inputs[s][k]
            let expected = data.targets[s][k] - epsilon * ratio[k % 3]
            let bound = 4 * u * (abs(data.targets[s][k]) + abs(denoising.inputs[s][k]) * ratio[k % 3] + abs(expected))
            #expect(abs(denoising.targets[s][k] - expected) <= bound, "sequence \(s), entry \(k)")
        }
    }
    #expect(data.addingNoise(0, seed: 3, correctingTargets: ratio).targets == data.targets)
}

/// A small run on the harmonic oscillator.
private func smallConfiguration(_ model: ModelKind, out: URL) -> SolveConfiguration {
    var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/harmonic-oscillator.toml").path, model: model)
    c.trainTrajectories = 2
    c.validationTrajectories = 1
    c.testTrajectories = 2
    c.evaluationStart = 8
    c.horizon = 5
    c.reservoir.size = 60
    c.reservoir.washout = 10
    c.outputDirectory = out.path
    c.writeFiles = false
    c.showProgress = false
    return c
}

@Test(arguments: [ModelKind.esn, .ngrc, .linear])
func noiseWithTheSameSeedGivesTheSameResult(model: ModelKind) throws {
    let out = try temporaryDirectory("noise\(model.rawValue)")
    defer { try? FileManager.default.removeItem(at: out) }
    var c = smallConfiguration(model, out: out)
    if model != .ngrc { c.window = 4 }
    c.noise = 1e-3
    c.retrain = true
    let accuracy = { (rows: [ErrorRow]) in rows.filter { $0.metric.hasPrefix("rmse") || $0.metric.hasPrefix("rel_l2_final") }.map(\.value) }
    let first = try SolvePipeline.run(c, log: { _ in })
    let second = try SolvePipeline.run(c, log: { _ in })
    #expect(accuracy(first.rows) == accuracy(second.rows))
    #expect(first.modelKey == second.modelKey)
    c.noise = 0
    let clean = try SolvePipeline.run(c, log: { _ in })
    #expect(accuracy(clean.rows) != accuracy(first.rows), "the noise changes the fit")
    #expect(clean.modelKey != first.modelKey, "the noise is part of the model's cache key")
}

@Test func patchesReadTheirHaloAcrossPeriodicAndZeroBoundaries() throws {
    // Two arrays of 6 sites: u periodic at 0 … 5, v with a zero boundary at 6 … 11.
    let layout = try SiteLayout(arrays: [.init(name: "u", offset: 0, count: 6, periodic: true),
                                         .init(name: "v", offset: 6, count: 6, periodic: false)], dimension: 12)
    var normalization = Normalization.fit(trajectories: [(0..<24).map(Double.init)], dimension: 12)
    normalization.stateMean[6] = 2; normalization.stateScale[6] = 4
    let patches = ParallelPartition.patches(ParallelSettings(groups: 3, halo: 1, shared: false), layout: layout, normalization: normalization)
    #expect(patches.count == 3)
    // Patch 0: sites −1 … 2 in, sites 0, 1 out; within a site u then v; v[−1] reads raw 0 = (0 − 2)/4.
    #expect(patches[0].inputColumns == [5, nil, 0, 6, 1, 7, 2, 8])
    #expect(patches[0].fill[1] == -0.5)
    #expect(patches[0].outputColumns == [0, 6, 1, 7])
    #expect(patches[2].inputColumns == [3, 9, 4, 10, 5, 11, 0, nil])
    #expect(Set(patches.flatMap(\.outputColumns)) == Set(0..<12))
    // Mistakes name the option.
    #expect(throws: SolveConfigurationError.self) {
        try ParallelPartition.validate(ParallelSettings(groups: 4, halo: 1, shared: true), layout: layout)
    }
    #expect(throws: SolveConfigurationError.self) {
        try ParallelPartition.validate(ParallelSettings(groups: 7, halo: 0, shared: false), layout: layout)
    }
    #expect(throws: SolveConfigurationError.self) {
        try SiteLayout(arrays: [.init(name: "u", offset: 0, count: 6, periodic: true)], dimension: 7)
    }
}

@Test func pooledStatisticsAreThoseOfAllSitesTogether() throws {
    let layout = try SiteLayout(arrays: [.init(name: "x", offset: 0, count: 3, periodic: true)], dimension: 3)
    var trajectory: [Double] = []
    for k in 0..<300 {
        let site = Double(k % 3)
        trajectory.append((site + 1) * sin(0.01 * Double(k)) + site)
    }
    let pooled = Normalization.fit(trajectories: [trajectory], dimension: 3).pooled(over: layout)
    // All sites as one variable: the same values in one column.
    let together = Normalization.fit(trajectories: [trajectory], dimension: 1)
    // Both are sums of at most n = 300 terms: each moment within γ_n of the sum of magnitudes (Higham 4.4), the
    // pooled one combining three of them; the variance within 4γ_n·mean(y²) on each side, σ within that over 2σ.
    let n = Double(trajectory.count)
    let gammaN = n * Double.ulpOfOne / 2 / (1 - n * Double.ulpOfOne / 2)
    let meanAbs = trajectory.map(abs).reduce(0, +) / n, meanSquare = trajectory.map { $0 * $0 }.reduce(0, +) / n
    let meanTolerance = 4 * gammaN * meanAbs
    let scaleTolerance = 2 * 4 * gammaN * meanSquare / (2 * together.stateScale[0])
    for i in 0..<3 {
        let meanError = abs(pooled.stateMean[i] - together.stateMean[0])
        let scaleError = abs(pooled.stateScale[i] - together.stateScale[0])
        #expect(meanError <= meanTolerance)
        #expect(scaleError <= scaleTolerance)
        #expect(pooled.minimum[i] == together.minimum[0])
        #expect(pooled.maximum[i] == together.maximum[0])
    }
}

@Test(arguments: [ModelKind.esn, .ngrc, .linear, .rnn])
func aParallelModelOfOneGroupEqualsTheSingleModel(model: ModelKind) throws {
    let out = try temporaryDirectory("parallel\(model.rawValue)")
    defer { try? FileManager.default.removeItem(at: out) }
    let d = 4
    let layout = try SiteLayout(arrays: [.init(name: "x", offset: 0, count: d, periodic: true)], dimension: d)
    var c = SolveConfiguration(problem: "lattice", model: model)
    c.reservoir.size = 50; c.reservoir.washout = 10
    c.ngrc.degree = 2; c.ngrc.ridge = 1e-6
    c.hidden = 4; c.epochs = 2; c.batchSize = 4; c.windowOverride = model == .ngrc ? nil : 4; c.sequenceSteps = 8
    c.showProgress = false
    let data = sineData(dimension: d, sequences: 2, steps: 200)
    let request = TrainingRequest(configuration: c, training: data, validation: nil, metadata: [:],
                                  resumeURL: out.appendingPathComponent("single.training"), log: { _ in })
    let single = try model.registration.train(request).makeStepper()
    let normalization = Normalization.fit(trajectories: data.inputs, dimension: d)
    let patches = ParallelPartition.patches(ParallelSettings(groups: 1, halo: 0, shared: false), layout: layout, normalization: normalization)
    let parallel = try ParallelTrainedModel.train(model.registration, request: request, patches: patches, shared: false,
                                                  resumeURL: { out.appendingPathComponent("part\($0).training") }, threads: 2)
        .makeStepper()
    #expect(parallel.parameterCount == single.parameterCount)
    for t in 0..<60 {
        let z = (0..<d).map { sin(0.11 * Double(t) + Double($0)) }
        #expect(parallel.advance(z) == single.advance(z), "step \(t)")
    }
}

/// Lorenz-96 (40 sites on a ring), small data and a short horizon.
private func lorenz96Configuration(_ model: ModelKind, out: URL) -> SolveConfiguration {
    var c = SolveConfiguration(problem: packageRoot.appendingPathComponent("problems/lorenz96.toml").path, model: model)
    c.trainTrajectories = 1
    c.validationTrajectories = 0
    c.testTrajectories = 2
    c.horizon = 3
    c.outputDirectory = out.path
    c.writeFiles = false
    c.showProgress = false
    return c
}

@Test func onLorenz96OneGroupEqualsTheSingleModelAndPartsReloadFromTheCache() throws {
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let accuracy = { (rows: [ErrorRow]) in rows.filter { $0.metric.hasPrefix("rmse") || $0.metric.hasPrefix("vpt") }.map(\.value) }
    var c = lorenz96Configuration(.linear, out: out)
    c.window = 2
    let single = try SolvePipeline.run(c, log: { _ in })
    c.parallel = ParallelSettings(groups: 1, halo: 0, shared: false)
    let one = try SolvePipeline.run(c, log: { _ in })
    #expect(accuracy(one.rows) == accuracy(single.rows))
    #expect(one.modelKey != single.modelKey)
    // Eight patches with a halo: trained once, then every part loads from the cache to the same rollouts.
    c.parallel = ParallelSettings(groups: 8, halo: 2, shared: true)
    let trained = try SolvePipeline.run(c, log: { _ in })
    let loaded = try SolvePipeline.run(c, log: { _ in })
    #expect(!trained.modelFromCache && loaded.modelFromCache)
    #expect(accuracy(loaded.rows) == accuracy(trained.rows))
    let parameters = trained.rows.first { $0.metric == "parameters" }!.value
    #expect(parameters == Double((2 * (5 + 4) + 1) * 5), "one shared model: 2 states of 9 sites and a bias to 5 sites")
}
