// Training by time budget: the learning rate follows the fraction of the budget spent, an epoch is cut short
// when the budget would be overrun, and fresh seeded input noise for each epoch.
import Foundation
import Support

/// A wall-clock budget B for one training run. The rate after spending s seconds is the cosine schedule over
/// the budget, η(s) = η_min + (η − η_min)(1 + cos(π·min(s/B, 1)))/2, which is the cosine over the predicted number
/// of epochs B/s̄ (s̄ the seconds of one epoch) re-estimated at every batch. Training stops when the seconds spent
/// plus the reserve for the closing validation pass reach B.
public struct TrainingBudget: Sendable, Equatable {
    public var seconds: Double
    public init(seconds: Double) { precondition(seconds > 0 && seconds.isFinite); self.seconds = seconds }

    /// η(s) for `spent` seconds of a budget, from the schedule's floor (cosine: its minimum; others: η·0.02).
    func rate(spent: Double, base eta: Double, schedule: LearningRateSchedule) -> Double {
        let floor: Double
        if case .cosine(let minimum) = schedule { floor = minimum } else { floor = eta * 0.02 }
        let fraction = min(max(spent / seconds, 0), 1)
        return floor + (eta - floor) * (1 + cos(Double.pi * fraction)) / 2
    }

    /// Whether another batch fits: spent + one batch + the validation reserve ≤ B.
    func allowsBatch(spent: Double, batchSeconds: Double, validationReserve: Double) -> Bool {
        spent + batchSeconds + validationReserve <= seconds
    }
}

extension SequenceDataset {
    /// The inputs plus independent N(0, σ²) noise, targets unchanged; a function of (seed, epoch) alone, so a
    /// resumed run and a rerun see the same noise. Each epoch draws afresh: the network never sees the same
    /// perturbed state twice, which regularises better than one fixed noisy copy.
    /// With `teacherForcedSteps`, only steps before it are perturbed (the closed-loop data: later inputs are fed
    /// back by the network, and their data values are the truth it is scored against).
    func addingInputNoise(_ sigma: Double, seed: UInt64, epoch: Int, teacherForcedSteps: Int? = nil) -> SequenceDataset {
        guard sigma > 0 else { return self }
        var generator = SplitMix64(seed: StableHash.fnv1a64(words: [seed, UInt64(epoch), 0x4E4F_4953_45]))  // "NOISE"
        var noisy = self
        let limit = teacherForcedSteps ?? steps
        for k in noisy.inputs.indices {
            let perturbation = sigma * generator.nextNormal()
            if k / inputSize % steps < limit { noisy.inputs[k] += perturbation }
        }
        return noisy
    }
}
