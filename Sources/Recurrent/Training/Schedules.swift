// Learning-rate schedules: the rate for each epoch from the base rate.
import Foundation

extension LearningRateSchedule {
    /// η_e for epoch e (0-based) of `epochs`:
    ///   constant: η;  step: η · factor^⌊e / every⌋;  cosine: η_min + (η − η_min)(1 + cos(π e / (E − 1))) / 2
    func rate(epoch e: Int, of epochs: Int, base eta: Double) -> Double {
        switch self {
        case .constant: return eta
        case .step(let every, let factor): return eta * pow(factor, Double(e / max(every, 1)))
        case .cosine(let minimum):
            guard epochs > 1 else { return eta }
            return minimum + (eta - minimum) * (1 + cos(Double.pi * Double(e) / Double(epochs - 1))) / 2
        }
    }
}
