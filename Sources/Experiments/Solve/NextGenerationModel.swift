// `ngrc`: next-generation reservoir computing (Gauthier et al. 2021) as a learned stepper: k delayed normalised
// states with skip s, their unique monomials up to degree p and a constant, ridge readout on the normalised
// increment (the same target as every other model).
import Foundation
import Recurrent

/// NG-RC settings (see `NextGenerationConfiguration`). The defaults were chosen on Lorenz-63 data of seeds 10–14,
/// never on the reported seeds 0–4 (README, "ngrc"): degree 4 reaches about 2.5× the valid prediction time of
/// Gauthier's degree 2, whose Taylor error of the step map is O(Δt³); below ridge 1e-8 the normal equations of the
/// degree-4 features lose positive definiteness in double precision.
public struct NextGenerationSettings: Codable, Hashable, Sendable {
    public var delays: Int = 2
    public var skip: Int = 1
    public var degree: Int = 4
    public var ridge: Double = 3e-8
    public init() {}
}

/// A `NextGenerationReservoir` fed the normalised state.
public final class NextGenerationStepper: LearnedStepper {
    public let model: NextGenerationReservoir
    private var state: NextGenerationReservoir.State

    public init(model: NextGenerationReservoir) {
        self.model = model
        state = model.makeState()
    }

    public var parameterCount: Int { model.featureCount * model.configuration.outputSize }
    public func reset() { state = model.makeState() }
    public func advance(_ z: [Double]) -> [Double] { model.step(z, state: &state) }
}

final class TrainedNextGenerationReservoir: TrainedModel {
    let model: NextGenerationReservoir
    init(model: NextGenerationReservoir) { self.model = model }
    var parameterCount: Int { model.featureCount * model.configuration.outputSize }
    func makeStepper() -> LearnedStepper { NextGenerationStepper(model: model) }
    func checkpoint(metadata: [String: [Double]]) -> Checkpoint { model.checkpoint(metadata: metadata) }
}

enum NextGenerationModel {
    static func configuration(_ c: SolveConfiguration, inputSize: Int, outputSize: Int) -> NextGenerationConfiguration {
        var configuration = NextGenerationConfiguration(inputSize: inputSize, outputSize: outputSize)
        configuration.delays = c.ngrc.delays; configuration.skip = c.ngrc.skip
        configuration.degree = c.ngrc.degree; configuration.ridge = c.ngrc.ridge
        return configuration
    }

    static let registration = ModelRegistration(
        name: "ngrc",
        summary: "next-generation reservoir: delayed states and their monomials, ridge-regression readout",
        isRecurrentNetwork: false, defaultEpochs: 0,
        // The states the features reach back over: (k − 1)·s + 1.
        defaultWindow: { c in (c.ngrc.delays - 1) * c.ngrc.skip + 1 }, quickWindow: nil,
        settings: { c in
            ["delays": "\(c.ngrc.delays)", "skip": "\(c.ngrc.skip)", "degree": "\(c.ngrc.degree)", "ridge": CSV.format(c.ngrc.ridge)]
        },
        validate: { c in
            try ModelRegistration.requireDoublePrecision(c)
            let s = c.ngrc
            if s.delays < 1 { throw SolveConfigurationError("--delays must be at least 1 (got \(s.delays))") }
            if s.skip < 1 { throw SolveConfigurationError("--skip must be at least 1 (got \(s.skip))") }
            if s.degree < 1 { throw SolveConfigurationError("--degree must be at least 1 (got \(s.degree))") }
            if !(s.ridge >= 0) || !s.ridge.isFinite { throw SolveConfigurationError("--ridge must be ≥ 0 (got \(s.ridge))") }
            if let window = c.windowOverride, window != (s.delays - 1) * s.skip + 1 {
                throw SolveConfigurationError("--window \(window) does not apply to ngrc: its window is (--delays − 1)·--skip + 1 = \((s.delays - 1) * s.skip + 1); set --delays and --skip instead")
            }
        },
        train: { request in
            let model = try NextGenerationReservoir(configuration: configuration(request.configuration, inputSize: request.training.inputSize,
                                                                                 outputSize: request.training.outputSize))
            request.log("fitting ngrc readout (\(model.featureCount) features: \(request.configuration.ngrc.delays) delays, skip \(request.configuration.ngrc.skip), degree \(request.configuration.ngrc.degree)) on \(request.training.inputs.count) sequences")
            try model.fit(inputs: request.training.inputs, targets: request.training.targets)
            return TrainedNextGenerationReservoir(model: model)
        },
        load: { checkpoint, c, inputSize, outputSize in
            let model = try NextGenerationReservoir(checkpoint: checkpoint)
            guard model.configuration == configuration(c, inputSize: inputSize, outputSize: outputSize) else {
                throw CheckpointError(file: checkpoint.file, problem: .malformed("an NG-RC model of other settings than requested"))
            }
            return TrainedNextGenerationReservoir(model: model)
        },
        memory: { c, d, _ in
            // Features ≈ L^p / p! with L = k·d; the normal equations hold features².
            var count = 1.0, term = 1.0
            for j in 1...max(c.ngrc.degree, 1) { term *= Double(c.ngrc.delays * d + j - 1) / Double(j); count += term }
            return [("the NG-RC normal equations ((--delays × variables)^--degree / --degree! features, squared)", count * count * 8 * 2)]
        },
        knobs: [
            TuningKnob(name: "delays", lower: 1, upper: 6, logarithmic: false, integer: true) { $0.ngrc.delays = Int($1) },
            TuningKnob(name: "skip", lower: 1, upper: 10, logarithmic: true, integer: true) { $0.ngrc.skip = Int($1) },
            TuningKnob(name: "degree", lower: 1, upper: 4, logarithmic: false, integer: true) { $0.ngrc.degree = Int($1) },
            TuningKnob(name: "ridge", lower: 1e-12, upper: 1e-2, logarithmic: true, integer: false) { $0.ngrc.ridge = $1 },
            TuningKnob(name: "noise", lower: 1e-6, upper: 1e-1, logarithmic: true, integer: false) { $0.noise = $1 },
        ])
}
