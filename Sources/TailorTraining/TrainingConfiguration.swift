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

    /// The precision of the products with the weights actually used.
    public var resolvedComputeDType: MatmulPrecision { computeDType ?? .native }
    /// Whether blocks are recomputed in backward.
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

    /// Rejects impossible values with a message naming the key, before any work starts: each key's range (from its
    /// declaration), then the rules that tie keys together.
    public func validate() throws {
        try validateRanges()
        func fail(_ key: String, _ why: String) -> TrainingError { .invalidConfiguration(key: key, message: why) }
        guard epochs > 0 || maxSteps > 0 else { throw fail("epochs", "must be positive when max_steps is 0") }
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
        if !method.trainsAdapters, initAdapter != nil {
            throw fail("init_adapter", "only applies to --method lora or qlora")
        }
    }
}
