// How many optimizer steps a run takes and how many of them warm up, as transformers' Trainer counts them.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Step counts of a training run (transformers `Trainer.set_initial_training_values` and
/// `TrainingArguments.get_warmup_steps`).
public enum TrainingSteps {
    /// Warmup steps W for a run of `totalSteps` optimizer steps, accepting both transformers generations:
    ///
    /// - 5.x (`warmup_steps` only): W = `Int(warmupSteps)` (truncating) when ≥ 1, else `ceil(T · warmupSteps)` —
    ///   a value below 1 is a ratio.
    /// - 4.x: W = `warmup_steps` when > 0, else `ceil(T · warmup_ratio)`.
    ///
    /// A positive `warmupSteps` wins; with `warmupSteps` nil or 0, `warmupRatio` (if any) applies. The products are
    /// f64 as in Python, so T = 100, ratio 0.07 gives 7.000000000000001 → 8 (and 0.03 gives 3).
    /// - Throws: `OptimError.invalidSetting` for negative or non-finite values.
    public static func warmupSteps(totalSteps: Int, warmupSteps: Double?, warmupRatio: Double?) throws(OptimError)
        -> Int
    {
        if let steps = warmupSteps, !(steps.isFinite && steps >= 0 && steps < 1e15) {
            throw .invalidSetting(field: "warmup_steps", value: "\(steps)",
                                  hint: "a step count ≥ 1, or a ratio of the total steps in [0, 1)")
        }
        if let ratio = warmupRatio, !(ratio.isFinite && ratio >= 0 && ratio <= 1) {
            throw .invalidSetting(field: "warmup_ratio", value: "\(ratio)", hint: "a ratio of the total steps in [0, 1]")
        }
        if let steps = warmupSteps, steps > 0 {
            return steps >= 1 ? Int(steps) : Int(ceil(Double(totalSteps) * steps))
        }
        if let ratio = warmupRatio { return Int(ceil(Double(totalSteps) * ratio)) }
        return 0
    }

    /// Total optimizer steps T: `maxSteps` when it is > 0, else `ceil(epochs · U)` with
    /// `U = max(1, ceil(batchesPerEpoch / accumulation))` updates per epoch (a final partial accumulation counts).
    /// - Throws: `OptimError.invalidSetting` for a non-positive accumulation, negative batches or bad epochs.
    public static func totalSteps(maxSteps: Int?, epochs: Double, batchesPerEpoch: Int, accumulation: Int)
        throws(OptimError) -> Int
    {
        if let maxSteps, maxSteps > 0 { return maxSteps }
        guard accumulation >= 1 else {
            throw .invalidSetting(field: "gradient_accumulation_steps", value: "\(accumulation)", hint: "must be ≥ 1")
        }
        guard batchesPerEpoch >= 0 else {
            throw .invalidSetting(field: "batches_per_epoch", value: "\(batchesPerEpoch)", hint: "must be ≥ 0")
        }
        guard epochs.isFinite && epochs > 0 else {
            throw .invalidSetting(field: "num_train_epochs", value: "\(epochs)",
                                  hint: "must be > 0 when max_steps is not set")
        }
        let updates = max(batchesPerEpoch / accumulation + (batchesPerEpoch % accumulation > 0 ? 1 : 0), 1)
        let total = ceil(epochs * Double(updates))
        guard total < 1e15 else {
            throw .invalidSetting(field: "num_train_epochs", value: "\(epochs)", hint: "gives \(total) steps; too many")
        }
        return Int(total)
    }
}
