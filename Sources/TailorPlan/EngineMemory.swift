// What Tailor's own CPU engine allocates for one training step, from the shapes alone: every tensor the trainer
import TailorFormats
// keeps is named in TailorModels (LlamaLayerActivations, LlamaGradients), so the estimate adds up those fields.
// Legend: B batch, T tokens, M = B·T, C hidden, F intermediate, V vocab, H/G heads, D head size, R LoRA rank.

/// Bytes Tailor's CPU engine holds while training (f32 compute; weights as stored).
public struct EngineMemoryEstimate: Codable, Sendable, Equatable {
    /// Base weights as Tailor holds them (f32 after decoding a GGUF; 4-bit for QLoRA's linear layers).
    public var weights: Int
    /// LoRA A/B parameters, or for full fine-tuning of memory-mapped weights the writable copy of the weights.
    public var adapters: Int
    /// Gradients of the trainable tensors, allocated once per optimizer step.
    public var gradients: Int
    /// AdamW's two moments per trainable parameter.
    public var optimizer: Int
    /// The largest set of activations alive at once during a micro-batch (forward kept tensors plus the head's
    /// logits and their gradient).
    public var activations: Int
    /// Everything above.
    public var total: Int { weights + adapters + gradients + optimizer + activations }
    /// What training adds on top of the loaded weights.
    public var trainingState: Int { adapters + gradients + optimizer + activations }
}

/// The training-memory model of Tailor's engine (not of PyTorch: see `Planner` for that).
public enum EngineMemory {
    /// - Parameters:
    ///   - adaptedLinears: (inFeatures, outFeatures) of every adapted linear layer in one decoder layer (LoRA/QLoRA).
    ///   - loraDropout: whether LoRA dropout is on (each adapted input is then kept twice: masked copy and mask).
    ///   - quantizedBytesPerParameter: bytes per 4-bit weight for QLoRA (≈ 0.516 with double quantization).
    ///   - weightsMemoryMapped: the weights are mapped from a safetensors file (not decoded into memory), so full
    ///     fine-tuning's first update makes a writable copy of every trainable tensor.
    ///   - bf16Products: products run in bf16 (`--compute-dtype bf16`): LoRA/QLoRA store the frozen base as bf16,
    ///     full fine-tuning keeps bf16 copies of the weights besides the f32 masters, and the head's gradient is
    ///     rounded to bf16 for its products.
    public static func estimate(shape s: ModelShape, method: TrainingMethod, batch: Int, sequenceLength: Int,
                                rank: Int, adaptedLinears: [(inFeatures: Int, outFeatures: Int)],
                                gradientCheckpointing: Bool, loraDropout: Bool,
                                quantizedBytesPerParameter: Double = 0.516,
                                weightsMemoryMapped: Bool = false, bf16Products: Bool = false) -> EngineMemoryEstimate {
        let f32 = 4, bf16 = 2, m = batch * sequenceLength
        let (c, f, v, l) = (s.hiddenSize, s.intermediateSize, s.vocabSize, s.layerCount)
        let (qw, kvw) = (s.queryWidth, s.keyValueWidth)
        let linearWeights = s.layerLinearWeights * l
        let tables = s.embeddingParameters + s.lmHeadParameters, norms = s.layerSmallParameters * l + c
        let frozenBF16 = bf16Products && method != .full
        let weights = (method == .qlora
            ? Int(Double(linearWeights) * quantizedBytesPerParameter)
            : linearWeights * (frozenBF16 ? bf16 : f32)) + tables * (frozenBF16 ? bf16 : f32) + norms * f32
        let adapterParameters = method == .full ? 0 : l * adaptedLinears.reduce(0) { $0 + rank * ($1.inFeatures + $1.outFeatures) }
        let trainable = method == .full ? s.parameterCount : adapterParameters

        // Kept per layer by LlamaModel.layerForward (f32): input, both norm outputs (+ 1/rms), q, k, v, attention
        // output and its per-row log-sum-exp (H per token), the residual in the middle, gate, up and their SwiGLU
        // product; LoRA keeps x·Aᵀ per adapter, and with dropout the dropped input and its mask.
        var perLayer = m * (4 * c + 2 + 2 * qw + 2 * kvw + 3 * f + s.headCount)
        if method != .full {
            perLayer += adaptedLinears.reduce(0) { $0 + m * rank + (loraDropout ? 2 * m * $1.inFeatures : 0) }
        }
        // Gradients alive at once while one block runs backward (its output, MLP and attention gradients).
        let workspace = m * (4 * c + 3 * f + 2 * qw + 3 * kvw)
        let angles = m * s.headDim
        // The logits (their gradient is written over them), the final norm's output and input gradient; with bf16
        // products also the gradient rounded to bf16 (half an f32 logits buffer).
        let head = m * v + 2 * m * c + m + (bf16Products ? m * v / 2 : 0)
        let kept = gradientCheckpointing ? l * m * c + perLayer : l * perLayer
        let activations = (kept + workspace + angles + head) * f32
        let writableCopy = method == .full && weightsMemoryMapped ? trainable * f32 : 0
        let computeCopies = method == .full && bf16Products ? (linearWeights + max(s.lmHeadParameters, s.embeddingParameters)) * bf16 : 0
        return EngineMemoryEstimate(weights: weights, adapters: adapterParameters * f32 + writableCopy + computeCopies,
                                    gradients: trainable * f32,
                                    optimizer: 2 * trainable * f32, activations: activations)
    }
}
