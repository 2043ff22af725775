// Every hyper-parameter of a training run: one resolved value type (defaults < recipe < flags), printed at start
// and saved with every checkpoint.
import Foundation
import TailorFormats
import TailorModels
import TailorOptim
import TailorQuantization
import TailorTensor

/// The resolved configuration of a training run. Keys are snake_case in recipes and in the saved JSON.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public var method: TrainingMethod = .lora
    /// Peak learning rate; nil picks the method's usual value (full 2e-5, LoRA 2e-4).
    public var learningRate: Double?
    public var epochs: Double = 1
    /// Optimizer steps to run; 0 means `epochs` decides.
    public var maxSteps: Int = 0
    /// Rows per micro-batch.
    public var batchSize: Int = 4
    public var gradientAccumulationSteps: Int = 1
    /// ≥ 1: warmup steps; < 1: a fraction of the total steps (transformers 5.x).
    public var warmupSteps: Double = 0
    public var warmupRatio: Double = 0
    public var lrSchedulerType: LearningRateSchedule = .linear
    public var weightDecay: Double = 0
    /// Clip gradients to this global L2 norm; 0 disables clipping.
    public var maxGradNorm: Double = 1
    public var adamBeta1: Double = 0.9
    public var adamBeta2: Double = 0.999
    public var adamEpsilon: Double = 1e-8
    public var seed: UInt64 = 42
    /// Shuffle rows every epoch (seeded); false keeps file order.
    public var shuffle: Bool = true
    /// Recompute each block in backward; nil = on for QLoRA, off otherwise.
    public var gradientCheckpointing: Bool?
    /// QLoRA's 4-bit type ("nf4" or "fp4"), double quantization and block size.
    public var bnb4bitQuantType: String = "nf4"
    public var bnb4bitUseDoubleQuant: Bool = true
    public var bnb4bitBlocksize: Int = 64
    /// Precision of the products with the model's weights: f32, or bf16 (bf16 operands, f32 accumulation and
    /// output; about twice as fast on CPUs with bf16 dot products). With LoRA and QLoRA the frozen base is then stored
    /// as bf16; full fine-tuning keeps f32 master weights and optimizer state (mixed precision). nil picks
    /// `MatmulPrecision.native`: bf16 where the CPU has bf16 dot products, f32 elsewhere.
    public var computeDType: MatmulPrecision?
    /// Rows longer than this are truncated.
    public var maxLength: Int = 2048
    public var neftuneNoiseAlpha: Double = 0
    // LoRA
    public var loraR: Int = 8
    public var loraAlpha: Double = 16
    public var loraDropout: Double = 0.05
    /// "all-linear", a comma-separated list of names/suffixes, or a regular expression.
    public var targetModules: String = "all-linear"
    public var useRSLoRA: Bool = false
    /// Start LoRA from this PEFT adapter folder.
    public var initAdapter: String?
    // Evaluation, logging, checkpoints
    public var evalSteps: Int = 0
    public var loggingSteps: Int = 1
    public var saveSteps: Int = 0
    public var saveTotalLimit: Int = 2
    /// Skip an optimizer step whose loss or gradients are NaN/Inf instead of stopping.
    public var skipNonFiniteSteps: Bool = false
    /// Where step metrics go besides metrics.jsonl and report.html: "none" or "tensorboard" (event files in
    /// `<out>/runs`).
    public var reportTo: String = "none"
    // Preference tuning (TRL's DPOConfig / ORPOConfig / CPOConfig names)
    public var objective: TrainingObjective = .sft
    /// DPO's β (KL strength), ORPO's λ, SimPO's β.
    public var beta: Double = 0.1
    public var lossType: DPOLossType = .sigmoid
    /// Robust DPO's (and SimPO's) label smoothing ε in [0, 0.5).
    public var labelSmoothing: Double = 0
    public var simpoGamma: Double = 0.5
    public var referenceFree: Bool = false
    public var truncationMode: TruncationMode = .keepStart
    /// Compute the reference log-probs once before training, cached in the run folder; otherwise the reference runs
    /// beside each step (the base with the adapter off for LoRA, a frozen copy of the model for full fine-tuning).
    public var precomputeRefLogProbs: Bool = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case method, epochs, seed, shuffle
        case learningRate = "learning_rate", maxSteps = "max_steps", batchSize = "batch_size"
        case gradientAccumulationSteps = "gradient_accumulation_steps", warmupSteps = "warmup_steps"
        case warmupRatio = "warmup_ratio", lrSchedulerType = "lr_scheduler_type", weightDecay = "weight_decay"
        case maxGradNorm = "max_grad_norm", adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2", adamEpsilon = "adam_epsilon"
        case gradientCheckpointing = "gradient_checkpointing", maxLength = "max_length", computeDType = "compute_dtype"
        case bnb4bitQuantType = "bnb_4bit_quant_type", bnb4bitUseDoubleQuant = "bnb_4bit_use_double_quant"
        case bnb4bitBlocksize = "bnb_4bit_blocksize"
        case neftuneNoiseAlpha = "neftune_noise_alpha", loraR = "lora_r", loraAlpha = "lora_alpha"
        case loraDropout = "lora_dropout", targetModules = "target_modules", useRSLoRA = "use_rslora"
        case initAdapter = "init_adapter", evalSteps = "eval_steps", loggingSteps = "logging_steps"
        case saveSteps = "save_steps", saveTotalLimit = "save_total_limit", skipNonFiniteSteps = "skip_non_finite_steps"
        case reportTo = "report_to"
        case objective, beta, lossType = "loss_type", labelSmoothing = "label_smoothing", simpoGamma = "simpo_gamma"
        case referenceFree = "reference_free", truncationMode = "truncation_mode", precomputeRefLogProbs = "precompute_ref_log_probs"
    }

    /// Every key a recipe may use.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfiguration()
        method = try c.decodeIfPresent(TrainingMethod.self, forKey: .method) ?? d.method
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate)
        epochs = try c.decodeIfPresent(Double.self, forKey: .epochs) ?? d.epochs
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps) ?? d.maxSteps
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        gradientAccumulationSteps = try c.decodeIfPresent(Int.self, forKey: .gradientAccumulationSteps) ?? d.gradientAccumulationSteps
        warmupSteps = try c.decodeIfPresent(Double.self, forKey: .warmupSteps) ?? d.warmupSteps
        warmupRatio = try c.decodeIfPresent(Double.self, forKey: .warmupRatio) ?? d.warmupRatio
        lrSchedulerType = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .lrSchedulerType) ?? d.lrSchedulerType
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? d.weightDecay
        maxGradNorm = try c.decodeIfPresent(Double.self, forKey: .maxGradNorm) ?? d.maxGradNorm
        adamBeta1 = try c.decodeIfPresent(Double.self, forKey: .adamBeta1) ?? d.adamBeta1
        adamBeta2 = try c.decodeIfPresent(Double.self, forKey: .adamBeta2) ?? d.adamBeta2
        adamEpsilon = try c.decodeIfPresent(Double.self, forKey: .adamEpsilon) ?? d.adamEpsilon
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        shuffle = try c.decodeIfPresent(Bool.self, forKey: .shuffle) ?? d.shuffle
        gradientCheckpointing = try c.decodeIfPresent(Bool.self, forKey: .gradientCheckpointing)
        bnb4bitQuantType = try c.decodeIfPresent(String.self, forKey: .bnb4bitQuantType) ?? d.bnb4bitQuantType
        bnb4bitUseDoubleQuant = try c.decodeIfPresent(Bool.self, forKey: .bnb4bitUseDoubleQuant) ?? d.bnb4bitUseDoubleQuant
        bnb4bitBlocksize = try c.decodeIfPresent(Int.self, forKey: .bnb4bitBlocksize) ?? d.bnb4bitBlocksize
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? d.maxLength
        computeDType = try c.decodeIfPresent(MatmulPrecision.self, forKey: .computeDType)
        neftuneNoiseAlpha = try c.decodeIfPresent(Double.self, forKey: .neftuneNoiseAlpha) ?? d.neftuneNoiseAlpha
        loraR = try c.decodeIfPresent(Int.self, forKey: .loraR) ?? d.loraR
        loraAlpha = try c.decodeIfPresent(Double.self, forKey: .loraAlpha) ?? d.loraAlpha
        loraDropout = try c.decodeIfPresent(Double.self, forKey: .loraDropout) ?? d.loraDropout
        targetModules = try c.decodeIfPresent(String.self, forKey: .targetModules) ?? d.targetModules
        useRSLoRA = try c.decodeIfPresent(Bool.self, forKey: .useRSLoRA) ?? d.useRSLoRA
        initAdapter = try c.decodeIfPresent(String.self, forKey: .initAdapter)
        evalSteps = try c.decodeIfPresent(Int.self, forKey: .evalSteps) ?? d.evalSteps
        loggingSteps = try c.decodeIfPresent(Int.self, forKey: .loggingSteps) ?? d.loggingSteps
        saveSteps = try c.decodeIfPresent(Int.self, forKey: .saveSteps) ?? d.saveSteps
        saveTotalLimit = try c.decodeIfPresent(Int.self, forKey: .saveTotalLimit) ?? d.saveTotalLimit
        skipNonFiniteSteps = try c.decodeIfPresent(Bool.self, forKey: .skipNonFiniteSteps) ?? d.skipNonFiniteSteps
        reportTo = try c.decodeIfPresent(String.self, forKey: .reportTo) ?? d.reportTo
        objective = try c.decodeIfPresent(TrainingObjective.self, forKey: .objective) ?? d.objective
        beta = try c.decodeIfPresent(Double.self, forKey: .beta) ?? d.beta
        lossType = try c.decodeIfPresent(DPOLossType.self, forKey: .lossType) ?? d.lossType
        labelSmoothing = try c.decodeIfPresent(Double.self, forKey: .labelSmoothing) ?? d.labelSmoothing
        simpoGamma = try c.decodeIfPresent(Double.self, forKey: .simpoGamma) ?? d.simpoGamma
        referenceFree = try c.decodeIfPresent(Bool.self, forKey: .referenceFree) ?? d.referenceFree
        truncationMode = try c.decodeIfPresent(TruncationMode.self, forKey: .truncationMode) ?? d.truncationMode
        precomputeRefLogProbs = try c.decodeIfPresent(Bool.self, forKey: .precomputeRefLogProbs) ?? d.precomputeRefLogProbs
    }

    /// Whether blocks are recomputed in backward.
    public var resolvedComputeDType: MatmulPrecision { computeDType ?? .native }
    public var resolvedGradientCheckpointing: Bool { gradientCheckpointing ?? (method == .qlora) }

    /// The learning rate actually used.
    public var resolvedLearningRate: Double { learningRate ?? (method == .full ? 2e-5 : 2e-4) }

    /// QLoRA's quantizer.
    public var quantizer: FourBitQuantizer {
        FourBitQuantizer(type: bnb4bitQuantType == "fp4" ? .fp4 : .nf4, blockSize: bnb4bitBlocksize, doubleQuant: bnb4bitUseDoubleQuant)
    }

    /// The adapter configuration for LoRA runs.
    public var loraConfiguration: LoRAConfiguration {
        return LoRAConfiguration(r: loraR, loraAlpha: loraAlpha, loraDropout: loraDropout, targetModules: TargetModules.parse(targetModules),
                                 useRSLoRA: useRSLoRA)
    }

    /// Rejects impossible values with a message naming the key, before any work starts.
    public func validate() throws {
        try validateRanges()
        func fail(_ key: String, _ why: String) -> TrainingError { .invalidConfiguration(key: key, message: why) }
        if let lr = learningRate, !(lr > 0 && lr.isFinite) { throw fail("learning_rate", "must be positive, got \(lr)") }
        guard epochs > 0 || maxSteps > 0 else { throw fail("epochs", "must be positive when max_steps is 0") }
        guard maxSteps >= 0 else { throw fail("max_steps", "must be ≥ 0, got \(maxSteps)") }
        guard batchSize > 0 else { throw fail("batch_size", "must be ≥ 1, got \(batchSize)") }
        guard gradientAccumulationSteps > 0 else { throw fail("gradient_accumulation_steps", "must be ≥ 1, got \(gradientAccumulationSteps)") }
        guard warmupSteps >= 0, (0...1).contains(warmupRatio) else { throw fail("warmup_steps", "warmup must be ≥ 0 (ratio in [0, 1])") }
        guard weightDecay >= 0 else { throw fail("weight_decay", "must be ≥ 0, got \(weightDecay)") }
        guard maxGradNorm >= 0 else { throw fail("max_grad_norm", "must be ≥ 0 (0 disables clipping), got \(maxGradNorm)") }
        guard (0..<1).contains(adamBeta1), (0..<1).contains(adamBeta2) else { throw fail("adam_beta1", "betas must be in [0, 1)") }
        guard adamEpsilon > 0 else { throw fail("adam_epsilon", "must be positive") }
        guard maxLength >= 2 else { throw fail("max_length", "must be ≥ 2, got \(maxLength)") }
        guard neftuneNoiseAlpha >= 0 else { throw fail("neftune_noise_alpha", "must be ≥ 0") }
        guard evalSteps >= 0, loggingSteps >= 1, saveSteps >= 0, saveTotalLimit >= 1 else {
            throw fail("save_steps", "eval_steps/save_steps must be ≥ 0, logging_steps and save_total_limit ≥ 1")
        }
        guard ["none", "tensorboard"].contains(reportTo) else { throw fail("report_to", "must be none or tensorboard, got \(reportTo)") }
        if objective.usesPairs {
            guard beta > 0, beta.isFinite else { throw fail("beta", "must be positive, got \(beta)") }
            guard (0..<0.5).contains(labelSmoothing) else { throw fail("label_smoothing", "must be in [0, 0.5), got \(labelSmoothing)") }
            guard simpoGamma.isFinite else { throw fail("simpo_gamma", "must be finite") }
        }
        if method == .qlora {
            guard ["nf4", "fp4"].contains(bnb4bitQuantType) else { throw fail("bnb_4bit_quant_type", "must be nf4 or fp4, got \(bnb4bitQuantType)") }
            guard (5...12).contains(bnb4bitBlocksize.trailingZeroBitCount), bnb4bitBlocksize.nonzeroBitCount == 1 else {
                throw fail("bnb_4bit_blocksize", "must be a power of two from 32 to 4096, got \(bnb4bitBlocksize)")
            }
        }
        if method.trainsAdapters {
            guard loraR > 0 else { throw fail("lora_r", "must be ≥ 1, got \(loraR)") }
            guard loraAlpha > 0 else { throw fail("lora_alpha", "must be positive, got \(loraAlpha)") }
            guard (0..<1).contains(loraDropout) else { throw fail("lora_dropout", "must be in [0, 1), got \(loraDropout)") }
        } else if initAdapter != nil {
            throw fail("init_adapter", "only applies to --method lora or qlora")
        }
    }
}
