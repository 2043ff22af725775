// AdamW hyperparameters under the names transformers' TrainingArguments uses, validated on decode.

/// The hyperparameters of `AdamW` (torch.optim.AdamW with transformers' TrainingArguments defaults).
///
/// Coded with Hugging Face's keys: `learning_rate`, `adam_beta1`, `adam_beta2`, `adam_epsilon`, `weight_decay`.
public struct AdamWConfiguration: Codable, Sendable, Equatable {
    /// The base learning rate; the schedule multiplies it by λ(step).
    public var learningRate: Double
    /// Decay of the first moment (TrainingArguments default 0.9).
    public var beta1: Double = 0.9
    /// Decay of the second moment (TrainingArguments default 0.999).
    public var beta2: Double = 0.999
    /// Added to the bias-corrected root of the second moment (default 1e-8).
    public var epsilon: Double = 1e-8
    /// Decoupled weight decay for the parameters `AdamW.decays(parameterNamed:)` selects (TrainingArguments default 0).
    public var weightDecay: Double = 0.0

    public init(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0.0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    enum CodingKeys: String, CodingKey {
        case learningRate = "learning_rate", beta1 = "adam_beta1", beta2 = "adam_beta2", epsilon = "adam_epsilon"
        case weightDecay = "weight_decay"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        beta1 = try c.decodeIfPresent(Double.self, forKey: .beta1) ?? 0.9
        beta2 = try c.decodeIfPresent(Double.self, forKey: .beta2) ?? 0.999
        epsilon = try c.decodeIfPresent(Double.self, forKey: .epsilon) ?? 1e-8
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? 0.0
        try validate()
    }

    /// Throws `OptimError.invalidSetting` for values torch.optim.AdamW rejects.
    public func validate() throws(OptimError) {
        func check(_ ok: Bool, _ field: String, _ value: Double, _ hint: String) throws(OptimError) {
            if !ok { throw .invalidSetting(field: field, value: "\(value)", hint: hint) }
        }
        try check(learningRate.isFinite && learningRate >= 0, "learning_rate", learningRate, "must be finite and ≥ 0")
        try check(beta1 >= 0 && beta1 < 1, "adam_beta1", beta1, "must be in [0, 1)")
        try check(beta2 >= 0 && beta2 < 1, "adam_beta2", beta2, "must be in [0, 1)")
        try check(epsilon.isFinite && epsilon >= 0, "adam_epsilon", epsilon, "must be finite and ≥ 0")
        try check(weightDecay.isFinite && weightDecay >= 0, "weight_decay", weightDecay, "must be finite and ≥ 0")
    }
}
