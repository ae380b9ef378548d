// The ESN's readout and W_in options through the solve configuration: the network configuration they build, the
// manifest and cache key (earlier models keep their keys), and the `readout` tuning knob.
import Foundation
import Testing
@testable import Experiments
import Recurrent

@Test func reservoirSettingsReachTheNetworkTheManifestAndTheKey() throws {
    var c = SolveConfiguration(problem: "lorenz", model: .esn)
    c.reservoir.readout = .quadratic; c.reservoir.inputWeights = .one; c.reservoir.biasScaling = 0.25
    let network = c.reservoir.configuration(inputSize: 3, outputSize: 3)
    #expect(network.readout == .quadratic && network.inputWeights == .one && network.biasScaling == 0.25)
    #expect(network.size == c.reservoir.size && network.ridge == c.reservoir.ridge)
    #expect(network.featureCount == 1 + 3 + 2 * c.reservoir.size)
    #expect(c.settings["readout"] == "quadratic" && c.settings["input_weights"] == "one")
    let problem = try SolvePipeline.problem(for: c)
    var keys = Set<String>()
    for readout in ReservoirReadout.allCases {
        c.reservoir.readout = readout
        keys.insert(SolvePipeline.modelKey(c, problem: problem))
    }
    #expect(keys.count == ReservoirReadout.allCases.count, "every readout is a different model")
    // The original linear readout and dense W_in are not named, so models cached before the options keep their key.
    c.reservoir.readout = .linear; c.reservoir.inputWeights = .dense
    #expect(c.settings["readout"] == nil && c.settings["input_weights"] == nil)
}

@Test func theReadoutKnobSetsEachReadout() throws {
    let knob = try #require(ModelKind.esn.registration.knobs.first { $0.name == "readout" })
    #expect(knob.integer && knob.lower == 0 && knob.upper == Double(ReservoirReadout.allCases.count - 1))
    for (index, readout) in ReservoirReadout.allCases.enumerated() {
        var c = SolveConfiguration(problem: "lorenz", model: .esn)
        knob.apply(&c, Double(index))
        #expect(c.reservoir.readout == readout)
    }
}

/// A trained default ESN is a network with the configured readout, and its checkpoint reloads to the same steps.
@Test func theEchoStateModelTrainsAndReloadsWithItsReadout() throws {
    var c = SolveConfiguration(problem: "lorenz", model: .esn)
    c.reservoir.size = 40; c.reservoir.washout = 5; c.reservoir.readout = .pathak; c.reservoir.inputWeights = .one
    var rng = Xoshiro256StarStar(seed: 3)
    let sequences = (0..<2).map { _ in (0..<(60 * 3)).map { _ in rng.nextSymmetric(1) } }
    let training = TeacherForcing(inputSize: 3, outputSize: 3, inputs: sequences, targets: sequences.map { $0.map { 0.5 * $0 } })
    let request = TrainingRequest(configuration: c, training: training, validation: nil, metadata: [:],
                                  resumeURL: FileManager.default.temporaryDirectory.appendingPathComponent("unused.training"), log: { _ in })
    let model = try ModelKind.esn.registration.train(request)
    let loaded = try ModelKind.esn.registration.load(model.checkpoint(metadata: [:]), c, 3, 3)
    #expect(model.parameterCount == 3 * (1 + 3 + 40) && loaded.parameterCount == model.parameterCount)
    let a = model.makeStepper(), b = loaded.makeStepper()
    for t in 0..<10 {
        let z = [0.1 * Double(t), -0.2, 0.3]
        #expect(a.advance(z) == b.advance(z))
    }
    let network = try #require((loaded as? TrainedEchoStateNetwork)?.network)
    #expect(network.configuration.readout == .pathak && network.configuration.inputWeights == .one)
}
