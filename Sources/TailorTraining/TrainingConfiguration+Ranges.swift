// The sensible range of every numeric hyperparameter, checked (with the key's name) before any arithmetic uses it,
// so a flag or recipe value near Int.max or a NaN cannot overflow the step count, the memory estimate or a kernel.

extension TrainingConfiguration {
    /// Upper bounds: far above any real run, far below what would overflow products of them (batch × length ×
    /// hidden size × layers in the memory estimate stays below 2^62).
    public enum Bounds {
        public static let steps = 1_000_000_000
        public static let epochs = 1_000_000.0
        public static let batchSize = 65_536
        public static let accumulation = 65_536
        public static let maxLength = 1 << 20
        public static let loraRank = 65_536
        public static let saveTotalLimit = 1_000_000
    }

    /// Throws `TrainingError.invalidConfiguration` naming the first key whose value is outside its range.
    public func validateRanges() throws {
        func fail(_ key: String, _ why: String) -> TrainingError { .invalidConfiguration(key: key, message: why) }
        func integer(_ key: String, _ value: Int, _ range: ClosedRange<Int>) throws {
            guard range.contains(value) else {
                throw fail(key, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
            }
        }
        func real(_ key: String, _ value: Double, _ range: ClosedRange<Double>, open: Bool = false) throws {
            guard value.isFinite else { throw fail(key, "must be a finite number, got \(value)") }
            guard range.contains(value), !(open && value == range.upperBound) else {
                let upper = open ? "\(range.upperBound))" : "\(range.upperBound)]"
                throw fail(key, "must be in [\(range.lowerBound), \(upper), got \(value)")
            }
        }
        if let lr = learningRate {
            guard lr.isFinite, lr > 0, lr <= 10 else { throw fail("learning_rate", "must be in (0, 10], got \(lr)") }
        }
        try real("epochs", epochs, 0...Bounds.epochs)
        try integer("max_steps", maxSteps, 0...Bounds.steps)
        try integer("batch_size", batchSize, 1...Bounds.batchSize)
        try integer("gradient_accumulation_steps", gradientAccumulationSteps, 1...Bounds.accumulation)
        try real("warmup_steps", warmupSteps, 0...Double(Bounds.steps))
        try real("warmup_ratio", warmupRatio, 0...1)
        try real("weight_decay", weightDecay, 0...100)
        try real("max_grad_norm", maxGradNorm, 0...1e9)
        try real("adam_beta1", adamBeta1, 0...1, open: true)
        try real("adam_beta2", adamBeta2, 0...1, open: true)
        guard adamEpsilon.isFinite, adamEpsilon > 0, adamEpsilon <= 1 else {
            throw fail("adam_epsilon", "must be in (0, 1], got \(adamEpsilon)")
        }
        try integer("max_length", maxLength, 2...Bounds.maxLength)
        try real("neftune_noise_alpha", neftuneNoiseAlpha, 0...1e4)
        try integer("lora_r", loraR, 1...Bounds.loraRank)
        guard loraAlpha.isFinite, loraAlpha > 0, loraAlpha <= 1e6 else {
            throw fail("lora_alpha", "must be in (0, 1000000], got \(loraAlpha)")
        }
        try real("lora_dropout", loraDropout, 0...1, open: true)
        try integer("eval_steps", evalSteps, 0...Bounds.steps)
        try integer("logging_steps", loggingSteps, 1...Bounds.steps)
        try integer("save_steps", saveSteps, 0...Bounds.steps)
        try integer("save_total_limit", saveTotalLimit, 1...Bounds.saveTotalLimit)
        try integer("bnb_4bit_blocksize", bnb4bitBlocksize, 1...4096)
    }
}
