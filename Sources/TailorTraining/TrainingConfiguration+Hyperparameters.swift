// Every hyperparameter of `TrainingConfiguration`, declared once: key, storage, allowed values and help. A new
// hyperparameter is a stored property with its default plus one line here; it then is a recipe key, a
// `tailor train` flag with help, a range check, and a field of the saved configuration.
import Foundation

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

    /// The declarations, in the order `--help` lists them.
    public static var hyperparameters: [Hyperparameter] {
        typealias H = Hyperparameter
        let steps = 0...Bounds.steps
        return [
            H("method", \.method, help: "full fine-tuning, LoRA, or QLoRA (LoRA on a 4-bit NF4/FP4 base)"),
            H("learning_rate", \.learningRate, .within(0...10, excludingLower: true),
              help: "peak learning rate (default: 2e-5 for full, 2e-4 for LoRA/QLoRA)"),
            H("epochs", \.epochs, .within(0...Bounds.epochs), help: "passes over the training rows (fractions allowed)"),
            H("max_steps", \.maxSteps, .within(steps), help: "optimizer steps to run; 0: epochs decide"),
            H("batch_size", \.batchSize, .within(1...Bounds.batchSize), help: "rows per micro-batch"),
            H("gradient_accumulation_steps", \.gradientAccumulationSteps, .within(1...Bounds.accumulation),
              help: "micro-batches per optimizer step (effective batch = batch_size × this × ranks)"),
            H("warmup_steps", \.warmupSteps, .within(0...Double(Bounds.steps)), help: "≥ 1: warmup steps; < 1: a fraction of all steps"),
            H("warmup_ratio", \.warmupRatio, .within(0...1), help: "warmup as a fraction of all steps"),
            H("lr_scheduler_type", \.lrSchedulerType, help: "learning-rate schedule after warmup"),
            H("weight_decay", \.weightDecay, .within(0...100), help: "AdamW's decoupled weight decay"),
            H("max_grad_norm", \.maxGradNorm, .within(0...1e9), help: "clip gradients to this global L2 norm; 0 disables clipping"),
            H("adam_beta1", \.adamBeta1, .within(0...1, excludingUpper: true), help: "AdamW β1"),
            H("adam_beta2", \.adamBeta2, .within(0...1, excludingUpper: true), help: "AdamW β2"),
            H("adam_epsilon", \.adamEpsilon, .within(0...1, excludingLower: true), help: "AdamW ε"),
            H("seed", \.seed, help: "seed of shuffling, dropout, NEFTune noise and LoRA initialisation"),
            H("shuffle", \.shuffle, help: "shuffle the rows every epoch (seeded); false keeps file order"),
            H("gradient_checkpointing", \.gradientCheckpointing,
              help: "recompute each block in the backward to save memory (default: on for QLoRA, off otherwise)"),
            H("max_length", \.maxLength, .within(2...Bounds.maxLength), help: "rows longer than this many tokens are truncated"),
            H("compute_dtype", \.computeDType,
              help: "precision of the products with the weights; bf16 is about 2× faster on CPUs with bf16 dot products and stores a LoRA/QLoRA base as bf16 (default: bf16 where the CPU has them)"),
            H("neftune_noise_alpha", \.neftuneNoiseAlpha, .within(0...1e4), help: "NEFTune: noise added to input embeddings during training; 0 disables it"),
            H("lora_r", \.loraR, .within(1...Bounds.loraRank), help: "LoRA rank"),
            H("lora_alpha", \.loraAlpha, .within(0...1e6, excludingLower: true), help: "LoRA α (the update is scaled by α / r)"),
            H("lora_dropout", \.loraDropout, .within(0...1, excludingUpper: true), help: "dropout on the LoRA input"),
            H("target_modules", \.targetModules, help: "layers that get adapters: \"all-linear\", names such as q_proj,v_proj, or a regex"),
            H("use_rslora", \.useRSLoRA, help: "rsLoRA: scale by α / √r instead of α / r"),
            H("init_adapter", \.initAdapter, help: "start LoRA from this PEFT adapter folder"),
            H("eval_steps", \.evalSteps, .within(steps), help: "evaluate on --eval-data every this many steps; 0: at the end only"),
            H("logging_steps", \.loggingSteps, .within(1...Bounds.steps), help: "log a step record every this many steps"),
            H("save_steps", \.saveSteps, .within(steps), help: "checkpoint every this many steps; 0: at the end only"),
            H("save_total_limit", \.saveTotalLimit, .within(1...Bounds.saveTotalLimit), help: "checkpoints kept (oldest removed first)"),
            H("skip_non_finite_steps", \.skipNonFiniteSteps, help: "skip a step whose loss or gradients are NaN/Inf instead of stopping"),
            H("bnb_4bit_quant_type", \.bnb4bitQuantType, help: "QLoRA: nf4 or fp4"),
            H("bnb_4bit_use_double_quant", \.bnb4bitUseDoubleQuant, help: "QLoRA: quantize the block scales too (double quantization)"),
            H("bnb_4bit_blocksize", \.bnb4bitBlocksize, .within(1...4096), help: "QLoRA: weights per 4-bit block, a power of two from 32 to 4096"),
            H("report_to", \.reportTo, help: "none, or tensorboard: also write TensorBoard event files to <out>/runs"),
            H("objective", \.objective, help: "sft, or preference tuning on pairs (prompt, chosen, rejected): dpo, orpo, simpo"),
            H("beta", \.beta, help: "DPO β (KL strength), ORPO λ, SimPO β"),
            H("loss_type", \.lossType, help: "DPO loss"),
            H("label_smoothing", \.labelSmoothing, help: "robust DPO / SimPO label smoothing in [0, 0.5)"),
            H("simpo_gamma", \.simpoGamma, help: "SimPO target margin γ"),
            H("reference_free", \.referenceFree, help: "DPO against reference log-probs of 0"),
            H("truncation_mode", \.truncationMode, help: "how pairs longer than max_length are cut"),
            H("precompute_ref_log_probs", \.precomputeRefLogProbs,
              help: "compute the reference log-probs once before training instead of running the reference each step (the base with the adapter off, or for full fine-tuning a frozen copy of the model)"),
        ]
    }

    /// Every key a recipe may use.
    public static var keys: [String] { hyperparameters.map(\.key) }

    /// Missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: HyperparameterKey.self)
        for parameter in Self.hyperparameters { try parameter.decode(&self, container) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: HyperparameterKey.self)
        for parameter in Self.hyperparameters { try parameter.encode(self, &container) }
    }

    /// Throws `TrainingError.invalidConfiguration` naming the first key whose value is outside its range, before
    /// any arithmetic uses it.
    public func validateRanges() throws {
        for parameter in Self.hyperparameters {
            if let message = parameter.inRange(self) { throw TrainingError.invalidConfiguration(key: parameter.key, message: message) }
        }
    }
}
