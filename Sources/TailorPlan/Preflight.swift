// Preflight checks of the field's pitfalls, as pure functions over plain values.
import Foundation
import TailorFormats

/// Checks to run before training; each returns its findings (empty when all is well).
public enum Preflight {
    /// The LoRA rank recommended for `rows` training examples (r = 8 under 1k rows, 16 up to 10k, 32 up to 100k,
    /// 64 above; thresholds in `PlanCoefficients`).
    public static func recommendedRank(rows: Int, coefficients: PlanCoefficients = .standard) -> Int {
        for (threshold, rank) in zip(coefficients.rankRowThresholds, coefficients.ranks) where rows < threshold {
            return rank
        }
        return coefficients.ranks.last ?? 16
    }

    /// Warns when `rank` exceeds `rankTooHighFactor` × the rank recommended for `exampleCount` rows: a high rank
    /// on little data memorises it.
    public static func loraRank(_ rank: Int, exampleCount: Int,
                                coefficients: PlanCoefficients = .standard) -> [Finding] {
        let recommended = recommendedRank(rows: exampleCount, coefficients: coefficients)
        guard Double(rank) > coefficients.rankTooHighFactor * Double(recommended) else { return [] }
        return [Finding(check: "lora-rank", severity: .warning,
                        message: "LoRA rank \(rank) is high for \(exampleCount) training rows",
                        fix: "use r=\(recommended), lora_alpha=\(Int(coefficients.alphaPerRank) * recommended)")]
    }

    /// The usual learning-rate range of a method as (low, high).
    public static func learningRateRange(_ method: TrainingMethod,
                                         coefficients: PlanCoefficients = .standard) -> (low: Double, high: Double) {
        let range = method == .full ? coefficients.fullLearningRateRange : coefficients.adapterLearningRateRange
        return (range.first ?? 0, range.last ?? .infinity)
    }

    /// Error for a non-positive or non-finite rate; warning outside the method's usual range (full 1e-5…5e-5,
    /// LoRA/QLoRA 1e-4…3e-4). A LoRA rate on full fine-tuning is the classic way to wreck a model.
    public static func learningRate(_ rate: Double, method: TrainingMethod,
                                    coefficients: PlanCoefficients = .standard) -> [Finding] {
        let (low, high) = learningRateRange(method, coefficients: coefficients)
        let typical = method == .full ? coefficients.fullLearningRate : coefficients.adapterLearningRate
        let range = "\(format(low))…\(format(high))"
        guard rate > 0, rate.isFinite else {
            return [Finding(check: "learning-rate", severity: .error, message: "learning rate \(rate) is not positive",
                            fix: "use \(format(typical)) (usual range for \(method.displayName): \(range))")]
        }
        guard rate < low * 0.999_999 || rate > high * 1.000_001 else { return [] }
        let direction = rate > high ? "above" : "below"
        return [Finding(check: "learning-rate", severity: .warning,
                        message: "learning rate \(format(rate)) is \(direction) the usual range \(range) for "
                            + method.displayName,
                        fix: "use \(format(typical))")]
    }

    /// Error for a non-positive count; warning when micro-batch × accumulation × devices is outside 32…128.
    public static func effectiveBatch(microBatchSize: Int, gradientAccumulation: Int, deviceCount: Int = 1,
                                      coefficients: PlanCoefficients = .standard) -> [Finding] {
        guard microBatchSize > 0, gradientAccumulation > 0, deviceCount > 0 else {
            return [Finding(check: "effective-batch", severity: .error,
                            message: "micro-batch \(microBatchSize), accumulation \(gradientAccumulation) and devices "
                                + "\(deviceCount) must all be positive", fix: "use positive values")]
        }
        let effective = microBatchSize * gradientAccumulation * deviceCount
        let low = coefficients.effectiveBatchRange.first ?? 1, high = coefficients.effectiveBatchRange.last ?? Int.max
        guard effective < low || effective > high else { return [] }
        let perStep = microBatchSize * deviceCount
        let accumulation = max(1, (low + perStep - 1) / perStep)
        return [Finding(check: "effective-batch", severity: .warning,
                        message: "effective batch \(effective) (\(microBatchSize) × \(gradientAccumulation) accumulation"
                            + " × \(deviceCount) devices) is outside \(low)…\(high)",
                        fix: effective < low ? "set gradient accumulation to \(accumulation)"
                            : "lower the micro-batch or accumulation to reach at most \(high)")]
    }

    /// Warning when some samples exceed `maxLength` (they are truncated: answers cut off, EOS lost); error when
    /// all of them do. `overLimit` of `total` samples are longer than `maxLength` tokens.
    public static func sequenceLengths(overLimit: Int, total: Int, maxLength: Int) -> [Finding] {
        guard overLimit > 0, total > 0 else { return [] }
        let percent = String(format: "%.1f", 100 * Double(overLimit) / Double(total))
        let severity: Severity = overLimit >= total ? .error : .warning
        return [Finding(check: "max-length", severity: severity,
                        message: "\(overLimit) of \(total) samples (\(percent)%) are longer than max_length \(maxLength) "
                            + "tokens and will be truncated",
                        fix: "raise max_length, or filter or split the long samples")]
    }

    /// `sequenceLengths` over a histogram: token length → number of samples.
    public static func sequenceLengths(histogram: [Int: Int], maxLength: Int) -> [Finding] {
        let total = histogram.values.reduce(0, +)
        let over = histogram.filter { $0.key > maxLength }.values.reduce(0, +)
        return sequenceLengths(overLimit: over, total: total, maxLength: maxLength)
    }

    /// `sequenceLengths` over the token length of every sample.
    public static func sequenceLengths(_ lengths: [Int], maxLength: Int) -> [Finding] {
        sequenceLengths(overLimit: lengths.filter { $0 > maxLength }.count, total: lengths.count, maxLength: maxLength)
    }

    /// Error when the predicted bytes exceed the available bytes; warning above `memoryWarningFraction` of it.
    public static func memory(predicted: Int, available: Int, method: TrainingMethod? = nil,
                              gradientCheckpointing: Bool = false,
                              coefficients: PlanCoefficients = .standard) -> [Finding] {
        let what = method.map { "\($0.displayName) needs" } ?? "training needs"
        let numbers = "\(what) \(ByteSize.format(predicted)) of \(ByteSize.format(available)) available"
        let alternative = switch method {
        case .full: "LoRA, "
        case .lora: "QLoRA, "
        case .qlora, nil: ""
        }
        let fix = (gradientCheckpointing ? "" : "enable gradient checkpointing, ")
            + "lower the micro-batch or sequence length, use \(alternative)more devices or a smaller model"
        if predicted > available {
            return [Finding(check: "memory", severity: .error, message: "predicted memory exceeds the device: " + numbers,
                            fix: fix)]
        }
        if Double(predicted) > coefficients.memoryWarningFraction * Double(available) {
            return [Finding(check: "memory", severity: .warning, message: "little head room: " + numbers, fix: fix)]
        }
        return []
    }

    /// Warning when QLoRA runs without kbit preparation (PEFT `prepare_model_for_kbit_training`: f32 norms, input
    /// gradients for checkpointing); without it training is unstable or gradients do not reach the adapters.
    public static func kbitPreparation(method: TrainingMethod, prepared: Bool) -> [Finding] {
        guard method == .qlora, !prepared else { return [] }
        return [Finding(check: "kbit-preparation", severity: .warning,
                        message: "QLoRA without k-bit preparation of the quantized model",
                        fix: "prepare the model for k-bit training (upcast norms, enable input gradients)")]
    }

    /// Warnings for adapter-state flags: merging into a 4-bit base (PEFT dequantizes, adds and re-quantizes:
    /// lossy) and dropout left active once the adapter is merged (train mode at evaluation: noisy outputs).
    public static func adapterState(method: TrainingMethod, mergeIntoBase: Bool, dropoutActive: Bool) -> [Finding] {
        var findings: [Finding] = []
        if method == .qlora && mergeIntoBase {
            findings.append(Finding(check: "merge-quantized", severity: .warning,
                                    message: "merging the adapter into the 4-bit base re-quantizes the weights (lossy)",
                                    fix: "merge into the 16-bit base model instead, then quantize for export"))
        }
        if mergeIntoBase && dropoutActive {
            findings.append(Finding(check: "dropout-after-merge", severity: .warning,
                                    message: "dropout is still active after merging the adapter",
                                    fix: "switch the model to evaluation mode (dropout off) before evaluating or exporting"))
        }
        return findings
    }

    static func format(_ value: Double) -> String {
        // "2.0e-05" → "2e-5", "1.5e-04" → "1.5e-4": how practitioners write rates.
        let text = String(format: "%.1e", value).replacingOccurrences(of: ".0e", with: "e")
        return text.replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e")
    }
}
