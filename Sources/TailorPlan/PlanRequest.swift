// What the user asks the planner: the model, the hardware and the training settings.
import TailorFormats

/// The dtype the (base) weights are stored and computed in; activations follow it.
public enum WeightDType: String, Codable, Sendable, CaseIterable {
    case bfloat16, float16, float32

    public var bytes: Int { self == .float32 ? 4 : 2 }

    /// Parses `bf16`, `bfloat16`, `fp16`, `f16`, `float16`, `f32`, `fp32`, `float32`.
    public static func parse(_ text: String) throws -> WeightDType {
        switch text.lowercased() {
        case "bf16", "bfloat16": return .bfloat16
        case "f16", "fp16", "float16", "half": return .float16
        case "f32", "fp32", "float32", "float": return .float32
        default: throw PlanError.invalidValue(field: "dtype", value: text, reason: "use bf16, f16 or f32")
        }
    }
}

/// The optimizer whose state is counted.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// torch AdamW: two f32 states per trainable parameter.
    case adamW
    /// bitsandbytes 8-bit AdamW: two blockwise 8-bit states.
    case adamW8bit
}

/// How attention is computed, which decides whether the T×T probabilities are kept for the backward.
public enum AttentionKind: String, Codable, Sendable, CaseIterable {
    /// Fused kernels (SDPA flash / memory-efficient, FlashAttention 2): only a log-sum-exp per head is saved.
    case sdpa
    /// transformers' eager attention: softmax probabilities B·H·T² are saved (f32 and a 16-bit copy).
    case eager
}

/// The settings a plan is made for. Sizes per device; batch counts per device.
public struct PlanRequest: Codable, Sendable, Equatable {
    public var model: ModelShape
    /// Memory available on each device.
    public var memoryPerDevice: ByteSize
    public var deviceCount: Int = 1
    /// Tokens per training sequence (max_length; batches are padded to it).
    public var sequenceLength: Int = 2048
    /// Sequences per device per forward/backward.
    public var microBatchSize: Int = 1
    public var gradientAccumulation: Int = 1
    /// Training rows; nil when unknown (no epoch time, no data-size advice).
    public var exampleCount: Int?
    /// Epochs; nil → the recommended number.
    public var epochs: Int?
    /// LoRA rank; nil → recommended from the data size (16 when that is unknown).
    public var loraRank: Int?
    /// lora_alpha; nil → 2·r.
    public var loraAlpha: Double?
    public var loraTargets: TargetModules = .allLinear
    /// PEFT `exclude_modules` (list form): names or suffixes never adapted.
    public var loraExclude: [String] = []
    public var weightDType: WeightDType = .bfloat16
    /// Full fine-tuning of 16-bit weights keeps f32 master weights (AMP style); false trains the 16-bit weights
    /// directly.
    public var mixedPrecision: Bool = true
    public var gradientCheckpointing: Bool = false
    public var optimizer: OptimizerKind = .adamW
    public var attention: AttentionKind = .sdpa
    /// Shard weights, gradients and optimizer state across devices (FSDP / ZeRO-3); nil → when deviceCount > 1.
    public var sharded: Bool?
    /// The method the user intends to run, for the preflight findings; nil → the recommended one.
    public var method: TrainingMethod?
    /// The learning rate the user intends to use, checked against the method's usual range.
    public var learningRate: Double?
    /// Achieved (not peak) training throughput per device in FLOP/s; nil → no time estimate.
    public var flopsPerSecond: Double?

    public init(model: ModelShape, memoryPerDevice: ByteSize) {
        self.model = model
        self.memoryPerDevice = memoryPerDevice
    }

    /// Whether weights, gradients and optimizer state are divided by the device count.
    public var isSharded: Bool { sharded ?? (deviceCount > 1) }

    /// Throws `PlanError.invalidValue` naming the first field outside its range.
    public func validate() throws {
        try model.validate()
        let positive: [(String, Int)] = [
            ("devices", deviceCount), ("seq-len", sequenceLength), ("micro-batch", microBatchSize),
            ("grad-accum", gradientAccumulation), ("memory", memoryPerDevice.bytes),
        ]
        for (field, value) in positive where value <= 0 {
            throw PlanError.invalidValue(field: field, value: "\(value)", reason: "must be positive")
        }
        if let rank = loraRank, rank <= 0 {
            throw PlanError.invalidValue(field: "lora-r", value: "\(rank)", reason: "must be positive")
        }
        if let count = exampleCount, count < 0 {
            throw PlanError.invalidValue(field: "examples", value: "\(count)", reason: "must not be negative")
        }
        if let epochs, epochs <= 0 {
            throw PlanError.invalidValue(field: "epochs", value: "\(epochs)", reason: "must be positive")
        }
        if let flops = flopsPerSecond, !(flops > 0 && flops.isFinite) {
            throw PlanError.invalidValue(field: "flops", value: "\(flops)", reason: "must be a positive number")
        }
    }
}
