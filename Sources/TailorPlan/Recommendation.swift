// The practitioners' decision flow: which method fits, and the hyper-parameters to start from.
import Foundation
import TailorFormats

/// What to run and with which settings.
public struct Recommendation: Codable, Sendable, Equatable {
    /// The method to use; nil when none fits.
    public var method: TrainingMethod?
    /// Why this method (memory as a multiple of the 16-bit model size, and the estimate).
    public var reason: String
    /// Warnings and advice: little data, sharding, rule of thumb vs estimate.
    public var notes: [String]
    /// When nothing fits: what would (a smaller model, more devices).
    public var alternatives: [String]
    public var loraRank: Int?
    public var loraAlpha: Double?
    public var learningRate: Double?
    public var microBatchSize: Int?
    public var gradientAccumulation: Int?
    public var effectiveBatchSize: Int?
    public var epochs: Int?

    /// A few lines for people.
    public var text: String {
        var lines: [String] = []
        if let method {
            lines.append("Recommended: \(method.displayName) — \(reason)")
            var settings: [String] = []
            if let r = loraRank, let alpha = loraAlpha { settings.append("r=\(r), lora_alpha=\(Int(alpha))") }
            if let lr = learningRate { settings.append("learning rate \(Preflight.format(lr))") }
            if let micro = microBatchSize, let accumulation = gradientAccumulation, let effective = effectiveBatchSize {
                settings.append("micro-batch \(micro) × accumulation \(accumulation) = effective batch \(effective)")
            }
            if let epochs { settings.append("\(epochs) epoch\(epochs == 1 ? "" : "s")") }
            lines.append("Settings: " + settings.joined(separator: "; "))
        } else {
            lines.append("Does not fit: \(reason)")
            lines += alternatives.map { "  - " + $0 }
        }
        lines += notes.map { "Note: " + $0 }
        return lines.joined(separator: "\n")
    }
}

/// The decision flow as pure functions.
public enum Recommender {
    /// The method the memory rule of thumb allows: total memory ≥ 4× the 16-bit model size (2 bytes/param) → full;
    /// ≥ 1.5× → LoRA; ≥ 0.5× → QLoRA; else nil.
    public static func ruleOfThumb(totalMemory: Int, parameterCount: Int,
                                   coefficients: PlanCoefficients = .standard) -> TrainingMethod? {
        let ratio = Double(totalMemory) / Double(2 * max(parameterCount, 1))
        if ratio >= coefficients.fullMemoryFactor { return .full }
        if ratio >= coefficients.loraMemoryFactor { return .lora }
        if ratio >= coefficients.qloraMemoryFactor { return .qlora }
        return nil
    }

    /// The first method allowed by the rule of thumb whose estimate also fits (`fits[method]`), stepping down
    /// full → LoRA → QLoRA; the notes say where the estimate overruled the rule.
    public static func chooseMethod(totalMemory: Int, parameterCount: Int, fits: [TrainingMethod: Bool],
                                    coefficients: PlanCoefficients = .standard) -> (method: TrainingMethod?, notes: [String]) {
        guard let allowed = ruleOfThumb(totalMemory: totalMemory, parameterCount: parameterCount,
                                        coefficients: coefficients) else { return (nil, []) }
        let order = TrainingMethod.allCases
        var notes: [String] = []
        for method in order[(order.firstIndex(of: allowed) ?? 0)...] {
            if fits[method] == true { return (method, notes) }
            notes.append("the rule of thumb allows \(method.displayName), but its estimate does not fit at micro-batch 1")
        }
        return (nil, notes)
    }

    /// Epochs for a data size: 3 up to 1k rows, 2 up to 10k, 1 above.
    public static func epochs(rows: Int, coefficients: PlanCoefficients = .standard) -> Int {
        for (threshold, epochs) in zip(coefficients.epochRowThresholds, coefficients.epochs) where rows <= threshold {
            return epochs
        }
        return coefficients.epochs.last ?? 1
    }

    /// Micro-batch and accumulation: the largest power of two that fits (at most 16, and within the effective
    /// range over the devices), then the accumulation that reaches the low end of the effective range (32).
    public static func batching(maxMicroBatch: Int, deviceCount: Int,
                                coefficients: PlanCoefficients = .standard) -> (micro: Int, accumulation: Int) {
        let low = coefficients.effectiveBatchRange.first ?? 32
        let high = coefficients.effectiveBatchRange.last ?? 128
        let cap = max(1, min(maxMicroBatch, 16, high / max(deviceCount, 1)))
        var micro = 1
        while micro * 2 <= cap { micro *= 2 }
        let perStep = micro * deviceCount
        return (micro, max(1, (low + perStep - 1) / perStep))
    }
}
