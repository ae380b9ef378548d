// Closed-loop training: the gradient through the fed-back predictions against central differences, the loss
// without fed-back steps equals teacher forcing, the curriculum, data-parallel slices, and training rolls out.
import Foundation
import Testing
import TestSupport
@testable import Recurrent

/// Feedback with unequal scales and offsets, so a swapped index or a missing α shows.
let testFeedback = ClosedLoopFeedback(scale: [0.3, 0.7], offset: [0.05, -0.1])

@Test(arguments: gradientCases.filter { $0.truncation == nil })
func closedLoopGradientMatchesCentralDifferences(_ c: GradientCase) {
    // 3 sequences of 6 steps, loss from step 1: steps 0, 1 teacher-forced, steps 2 … 5 fed back (R = 4).
    let data = randomDataset(steps: 6)
    let network = RecurrentNetwork(configuration: .init(cell: c.cell, inputSize: 2, hiddenSize: 3, layers: c.layers, outputSize: 2),
                                   seed: 11)
    let workspace = BPTTWorkspace<Double>(configuration: network.configuration, layout: network.layout, maxBatch: data.count, maxSteps: data.steps)
    let scratch = ClosedLoopScratch(workspace, parameterCount: network.parameterCount)
    let indices = Array(0..<data.count)[...]
    var analytic = [Double](repeating: 0, count: network.parameterCount)
    _ = network.parameters.withUnsafeBufferPointer { p in
        analytic.withUnsafeMutableBufferPointer { g in
            workspace.closedLoopSquaredError(data, indices: indices, feedback: testFeedback, parameters: p.baseAddress!,
                                             gradient: g.baseAddress!, scratch: scratch)
        }
    }
    let numeric = centralDifferenceGradient(at: network.parameters, step: 1e-5) { theta in
        theta.withUnsafeBufferPointer { p in
            workspace.closedLoopSquaredError(data, indices: indices, feedback: testFeedback, parameters: p.baseAddress!,
                                             gradient: nil, scratch: scratch)
        }
    }
    let worst = worstGradientEntries(analytic: analytic, numeric: numeric, floor: 1e-4) { network.layout.describe(index: $0) }
    print("closed-loop gradient check \(c): worst \(worst[0])")
    // The same error budget as the teacher-forced check (h²/6·|L‴| + u·|L|/h relative to the 1e−4 floor, with
    // |L| = O(10) here: the errors divided by α < 1 grow the loss): 1e−6 stays above that noise, while a missing
    // path through the feedback is off by O(1).
    #expect(worst[0].relativeError < 1e-6, "\(c): worst entries\n\(worst.map(\.description).joined(separator: "\n"))")
    #expect(analytic.allSatisfy { $0.isFinite })
    // The feedback matters: the teacher-forced gradient of the same data differs.
    var teacherForced = [Double](repeating: 0, count: network.parameterCount)
    _ = network.parameters.withUnsafeBufferPointer { p in
        teacherForced.withUnsafeMutableBufferPointer { g in
            workspace.meanSquaredError(data, indices: indices, window: data.steps, parameters: p.baseAddress!, gradient: g.baseAddress!)
        }
    }
    #expect(worstRelativeDifference(analytic, teacherForced).value > 1e-2)
}

@Test(arguments: gradientCases.filter { $0.truncation == nil })
func closedLoopGradientThroughAnAngleMatchesCentralDifferences(_ c: GradientCase) {
    // A feedback like the test above's with input 1 an angle of period 0.9 (normalised units), short enough that
    // the fed-back inputs wrap: the reduction is the identity to first order between its jumps, which a central
    // difference of step 1e−5 does not cross here (it would show as an error of O(1/h)). Scales nearer 1 than
    // `testFeedback`'s keep |L| = O(1), so the rounding part of the error budget below is 10× under it.
    let angle = ClosedLoopFeedback.Angle(component: 1, period: 0.9, shift: 0.15)
    let plain = ClosedLoopFeedback(scale: [0.6, 1.0], offset: testFeedback.offset)
    let feedback = ClosedLoopFeedback(scale: plain.scale, offset: plain.offset, angles: [angle])
    let data = randomDataset(steps: 6)
    let network = RecurrentNetwork(configuration: .init(cell: c.cell, inputSize: 2, hiddenSize: 3, layers: c.layers, outputSize: 2),
                                   seed: 11)
    let workspace = BPTTWorkspace<Double>(configuration: network.configuration, layout: network.layout, maxBatch: data.count, maxSteps: data.steps)
    let scratch = ClosedLoopScratch(workspace, parameterCount: network.parameterCount)
    let indices = Array(0..<data.count)[...]
    func loss(_ theta: [Double], _ feedback: ClosedLoopFeedback, gradient: inout [Double]?) -> Double {
        theta.withUnsafeBufferPointer { p in
            if gradient == nil {
                return workspace.closedLoopSquaredError(data, indices: indices, feedback: feedback, parameters: p.baseAddress!,
                                                        gradient: nil, scratch: scratch)
            }
            return gradient!.withUnsafeMutableBufferPointer { g in
                workspace.closedLoopSquaredError(data, indices: indices, feedback: feedback, parameters: p.baseAddress!,
                                                 gradient: g.baseAddress!, scratch: scratch)
            }
        }
    }
    var analytic: [Double]? = [Double](repeating: 0, count: network.parameterCount), none: [Double]? = nil
    let reducedLoss = loss(network.parameters, feedback, gradient: &analytic)
    // Every fed-back angle lies in the range the reduction maps to, [−p/2 − c, p/2 − c), and some left it before.
    let fedBack = ((data.lossFromStep + 1)..<data.steps).flatMap { n in
        (0..<data.count).map { r in workspace.inputs.base[(n * data.count + r) * 2 + 1] }
    }
    #expect(fedBack.allSatisfy { $0 >= -0.45 - 0.15 && $0 < 0.45 - 0.15 }, "\(fedBack)")
    #expect(abs(reducedLoss - loss(network.parameters, plain, gradient: &none)) > 1e-3, "the angle was never reduced")
    let numeric = centralDifferenceGradient(at: network.parameters, step: 1e-5) { loss($0, feedback, gradient: &none) }
    let worst = worstGradientEntries(analytic: analytic!, numeric: numeric, floor: 1e-4) { network.layout.describe(index: $0) }
    print("closed-loop gradient check through an angle \(c): loss \(reducedLoss), worst \(worst[0])")
    // The error budget of the check above.
    #expect(worst[0].relativeError < 1e-6, "\(c): worst entries\n\(worst.map(\.description).joined(separator: "\n"))")
}

@Test func anAngleIsReducedIntoTheDataRange() {
    // p = 2π/σ with σ = 2, c = μ/σ = 0.5: y = 2z + 1 reduced to [−π, π).
    let angle = ClosedLoopFeedback.Angle(component: 0, period: 2 * Double.pi / 2, shift: 0.5)
    for y in stride(from: -20.0, through: 20.0, by: 0.37) {
        let z = (y - 1) / 2, reduced = angle.reduced(z)
        let expected = y - 2 * Double.pi * (y / (2 * Double.pi) + 0.5).rounded(.down)
        #expect(abs(2 * reduced + 1 - expected) < 1e-12 && expected >= -Double.pi && expected < Double.pi)
    }
    // No angle: the feedback decodes and compares as before.
    #expect(ClosedLoopFeedback(scale: [1], offset: [0], angles: []) == ClosedLoopFeedback(scale: [1], offset: [0]))
}

@Test(arguments: CellKind.allCases)
func closedLoopWithoutFedBackStepsIsTeacherForcing(_ cell: CellKind) {
    // Loss from the last step only: nothing is fed back, and the loss and gradient are the teacher-forced ones.
    let data = randomDataset(steps: 5, lossFromStep: 4)
    let network = RecurrentNetwork(configuration: .init(cell: cell, inputSize: 2, hiddenSize: 4, outputSize: 2), seed: 5)
    let workspace = BPTTWorkspace<Double>(configuration: network.configuration, layout: network.layout, maxBatch: 3, maxSteps: 5)
    let scratch = ClosedLoopScratch(workspace, parameterCount: network.parameterCount)
    var closed = [Double](repeating: 0, count: network.parameterCount), forced = closed
    let (a, b) = network.parameters.withUnsafeBufferPointer { p in
        (closed.withUnsafeMutableBufferPointer {
            workspace.closedLoopSquaredError(data, indices: [0, 1, 2], feedback: testFeedback, parameters: p.baseAddress!,
                                             gradient: $0.baseAddress!, scratch: scratch)
        },
         forced.withUnsafeMutableBufferPointer {
            workspace.meanSquaredError(data, indices: [0, 1, 2], window: 5, parameters: p.baseAddress!, gradient: $0.baseAddress!)
        })
    }
    #expect(a == b && closed == forced)
}

@Test func curriculumGrowsTheRolloutSteps() {
    let c = ClosedLoopTraining(feedback: testFeedback, rolloutSteps: 8)
    #expect(c.rollout(atFraction: 0) == 0 && c.rollout(atFraction: 0.24) == 0)
    #expect(c.rollout(atFraction: 0.25) == 1 && c.rollout(atFraction: 0.5) == 5)
    #expect(c.rollout(atFraction: 0.75) == 8 && c.rollout(atFraction: 1) == 8)
    let steps = stride(from: 0.0, through: 1.0, by: 0.01).map { c.rollout(atFraction: $0) }
    #expect(zip(steps, steps.dropFirst()).allSatisfy { $0.0 <= $0.1 })
    #expect(ClosedLoopTraining(feedback: testFeedback, rolloutSteps: 0).rollout(atFraction: 1) == 0)
}

@Test func closedLoopTrainingIsDataParallelAndRollsOutBetter() throws {
    // Sine pairs (sin, cos of ωt + φ) as a state, increments as targets: a 2-d linear flow the feedback closes.
    let count = 64, steps = 24, d = 2
    var rng = Xoshiro256StarStar(seed: 9)
    var inputs: [Double] = [], targets: [Double] = []
    let omega = 0.2
    for _ in 0..<count {
        let phase = 2 * Double.pi * rng.nextUniform()
        for t in 0..<steps {
            let u = [sin(omega * Double(t) + phase), cos(omega * Double(t) + phase)]
            let v = [sin(omega * Double(t + 1) + phase), cos(omega * Double(t + 1) + phase)]
            inputs += u
            targets += (0..<d).map { (v[$0] - u[$0]) / 0.2 }   // x̃_{n+1} = x̃_n + 0.2·ŷ_n
        }
    }
    let data = SequenceDataset(count: count, steps: steps, inputSize: d, outputSize: d, inputs: inputs, targets: targets, lossFromStep: 7)
    let feedback = ClosedLoopFeedback(scale: [0.2, 0.2], offset: [0, 0])
    func train(threads: Int, rollout: Int) throws -> (RecurrentNetwork, Trainer) {
        let network = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: d, hiddenSize: 8, outputSize: d), seed: 3)
        let trainer = Trainer(network: network, options: quietOptions(epochs: 12))
        trainer.threads = threads
        trainer.closedLoop = ClosedLoopTraining(feedback: feedback, rolloutSteps: rollout)
        _ = try trainer.fit(training: data, validation: nil)
        return (network, trainer)
    }
    let (one, trainer) = try train(threads: 1, rollout: 16)
    let (two, _) = try train(threads: 2, rollout: 16)
    // Two slices add the same terms in another order: equal to rounding.
    #expect(zip(one.parameters, two.parameters).allSatisfy { abs($0 - $1) <= 1e-8 * max(1, abs($1)) })
    let (forced, forcedTrainer) = try train(threads: 1, rollout: 0)
    let closedLoss = trainer.loss(on: data, feedback: feedback), forcedLoss = forcedTrainer.loss(on: data, feedback: feedback)
    print("closed-loop loss over 16 fed-back steps: trained closed-loop \(closedLoss), teacher-forced \(forcedLoss)")
    #expect(closedLoss < forcedLoss, "training on the rollout lowers the rollout loss")
    _ = forced
}

@Test func singlePrecisionClosedLoopTrainingRollsOutBetter() throws {
    // The sine pairs and network of the test above, trained in Float32 on two slices: the closed loop runs
    // through the Float32 slices.
    let count = 64, steps = 24, d = 2
    var rng = Xoshiro256StarStar(seed: 9)
    var inputs: [Double] = [], targets: [Double] = []
    let omega = 0.2
    for _ in 0..<count {
        let phase = 2 * Double.pi * rng.nextUniform()
        for t in 0..<steps {
            let u = [sin(omega * Double(t) + phase), cos(omega * Double(t) + phase)]
            let v = [sin(omega * Double(t + 1) + phase), cos(omega * Double(t + 1) + phase)]
            inputs += u
            targets += (0..<d).map { (v[$0] - u[$0]) / 0.2 }
        }
    }
    let data = SequenceDataset(count: count, steps: steps, inputSize: d, outputSize: d, inputs: inputs, targets: targets, lossFromStep: 7)
    let feedback = ClosedLoopFeedback(scale: [0.2, 0.2], offset: [0, 0])
    func train(rollout: Int) throws -> Trainer {
        let network = RecurrentNetwork(configuration: .init(cell: .gru, inputSize: d, hiddenSize: 8, outputSize: d), seed: 3,
                                       precision: .single)
        let trainer = Trainer(network: network, options: quietOptions(epochs: 12))
        trainer.threads = 2
        trainer.closedLoop = ClosedLoopTraining(feedback: feedback, rolloutSteps: rollout)
        _ = try trainer.fit(training: data, validation: nil)
        #expect(trainer.precision == .single && network.parameters.allSatisfy(\.isFinite))
        return trainer
    }
    let closedLoss = try train(rollout: 16).loss(on: data, feedback: feedback)
    let forcedLoss = try train(rollout: 0).loss(on: data, feedback: feedback)
    print("Float32 closed-loop loss over 16 fed-back steps: trained closed-loop \(closedLoss), teacher-forced \(forcedLoss)")
    #expect(closedLoss < forcedLoss, "training on the rollout lowers the rollout loss in Float32 too")
}
