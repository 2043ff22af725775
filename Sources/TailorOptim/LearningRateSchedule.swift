// Learning-rate schedules of transformers' optimization.py (linear, cosine, constant, constant with warmup).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A learning-rate schedule, named as transformers' `lr_scheduler_type`.
///
/// The learning rate of optimizer step `s` (the number of steps already taken, 0 for the first update) is
/// `base · multiplier(step: s, …)`: torch's LambdaLR is stepped after each optimizer step, so with warmup the first
/// update uses λ(0) = 0.
public enum LearningRateSchedule: String, Codable, Sendable, CaseIterable {
    /// Linear warmup from 0, then linear decay to 0 at `totalSteps` (the Trainer's default).
    case linear
    /// Linear warmup, then half a cosine period down to 0 (`num_cycles` 0.5).
    case cosine
    /// λ = 1 throughout (no warmup).
    case constant
    /// Linear warmup, then λ = 1.
    case constantWithWarmup = "constant_with_warmup"

    /// λ(step), computed in f64 with the operations and their order of transformers' lr lambdas, so that
    /// `base · λ` equals the rate torch sets bit for bit.
    public func multiplier(step: Int, totalSteps: Int, warmupSteps: Int) -> Double {
        let s = Double(step)
        switch self {
        case .constant:
            return 1
        case .constantWithWarmup:
            if step < warmupSteps { return s / max(1, Double(warmupSteps)) }
            return 1
        case .linear:
            if step < warmupSteps { return s / Double(max(1, warmupSteps)) }
            return max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
        case .cosine:
            if step < warmupSteps { return s / Double(max(1, warmupSteps)) }
            let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
            let numCycles = 0.5
            return max(0, 0.5 * (1 + cos(Double.pi * numCycles * 2 * progress)))
        }
    }

    /// The learning rate of optimizer step `step`: `baseLearningRate · λ(step)`.
    public func learningRate(base baseLearningRate: Double, step: Int, totalSteps: Int, warmupSteps: Int) -> Double {
        baseLearningRate * multiplier(step: step, totalSteps: totalSteps, warmupSteps: warmupSteps)
    }
}
