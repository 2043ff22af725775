// Every number the planner assumes that is not a fact of the model: one struct, so a calibration can override it.
import Foundation

/// The planner's coefficients. Defaults describe a PyTorch + transformers + PEFT + bitsandbytes stack on a GPU;
/// a calibration against measured runs (Tailor's CPU engine, another framework) overrides what it measured with
/// `overriding(withJSON:)`, which reads a partial JSON object with these property names.
public struct PlanCoefficients: Codable, Sendable, Equatable {
    // MARK: Weights and optimizer state (bytes per parameter)

    /// f32 master copy kept by mixed-precision full fine-tuning of 16-bit weights (4 bytes/param).
    public var masterWeightBytes: Double = 4
    /// AdamW's two f32 moments (exp_avg, exp_avg_sq): 8 bytes per trainable parameter.
    public var adamWStateBytes: Double = 8
    /// 8-bit AdamW (bitsandbytes blockwise): two 1-byte states plus one f32 absmax per 2048-value block each.
    public var adamW8bitStateBytes: Double = 2 + 8.0 / 2048
    /// LoRA A/B weights, their gradients: PEFT upcasts adapters to f32 (`autocast_adapter_dtype=True`).
    public var adapterBytes: Double = 4
    /// Bytes of the 16-bit parameters QLoRA does not quantize (embeddings, norms, lm_head, biases).
    public var qloraKeptBytes: Double = 2
    /// NF4 block size: one absmax per 64 weights (bitsandbytes default, spec §1.2).
    public var nf4BlockSize: Int = 64
    /// Double quantization: absmax values become 8-bit codes with one f32 scale per 256 of them (spec §1.5), so one
    /// f32 per 64·256 = 16 384 weights.
    public var nestedBlockSize: Int = 256

    // MARK: Activations (see ActivationModel for the per-layer formula)

    /// Backward-pass transients (activation gradients of the layer being differentiated, its recomputed tensors'
    /// temporaries) as a multiple of one layer's saved activations.
    public var backwardWorkspaceLayers: Double = 1
    /// f32 logits-sized buffers alive together at the loss backward (gradient of log-softmax and of the f32 logits).
    public var logitsGradientF32Copies: Double = 2
    /// The 16-bit logits returned by the model stay alive through the backward (transformers returns them).
    public var retainLogits: Bool = true

    // MARK: Runtime overhead

    /// Fixed bytes per device: CUDA context, cuBLAS/cuDNN workspaces, the framework itself (0.5 GiB).
    public var overheadFixedBytes: Double = 536_870_912
    /// Allocator fragmentation and caching, as a fraction of everything else.
    public var overheadFraction: Double = 0.10

    // MARK: Time

    /// FLOPs per parameter per token of full fine-tuning: forward 2, backward 4 (input and weight gradients).
    public var fullFlopsPerParameter: Double = 6
    /// FLOPs per frozen-base parameter per token under LoRA: forward 2, input gradients 2, no weight gradients.
    public var frozenFlopsPerParameter: Double = 4
    /// FLOPs per adapter parameter per token (trained like full fine-tuning).
    public var adapterFlopsPerParameter: Double = 6
    /// Extra FLOPs per parameter per token from gradient checkpointing (one more forward pass).
    public var recomputeFlopsPerParameter: Double = 2
    /// Share of the T×T score matrix attention computes (causal kernels skip the masked half); attention
    /// FLOPs per token per layer, forward: 4·T·Q·share; training: 3× that (4× with checkpointing).
    public var attentionCausalShare: Double = 0.5
    /// Step-time multiplier of QLoRA over LoRA (dequantizing NF4 weights in every matmul, forward and backward).
    public var qloraDequantOverhead: Double = 1.3
    /// Scaling efficiency of data parallelism (communication) when more than one device trains.
    public var multiDeviceEfficiency: Double = 0.9

    // MARK: Decision flow (memory as a multiple of the 16-bit model size, 2 bytes/param)

    public var fullMemoryFactor: Double = 4
    public var loraMemoryFactor: Double = 1.5
    public var qloraMemoryFactor: Double = 0.5
    /// Below this many training rows: "collect more data first".
    public var minimumRows: Int = 1000
    /// Row-count thresholds for the LoRA rank: r = ranks[i] for rows < rankRowThresholds[i], else ranks.last.
    public var rankRowThresholds: [Int] = [1000, 10_000, 100_000]
    public var ranks: [Int] = [8, 16, 32, 64]
    /// lora_alpha = alphaPerRank · r.
    public var alphaPerRank: Double = 2
    /// A LoRA rank above this multiple of the recommended one is flagged for the data size.
    public var rankTooHighFactor: Double = 2
    /// Epochs: epochs[i] for rows ≤ epochRowThresholds[i], else epochs.last.
    public var epochRowThresholds: [Int] = [1000, 10_000]
    public var epochs: [Int] = [3, 2, 1]
    public var fullLearningRate: Double = 2e-5
    public var fullLearningRateRange: [Double] = [1e-5, 5e-5]
    public var adapterLearningRate: Double = 2e-4
    public var adapterLearningRateRange: [Double] = [1e-4, 3e-4]
    /// Effective batch (micro-batch × accumulation × devices) practitioners keep within.
    public var effectiveBatchRange: [Int] = [32, 128]
    /// Predicted memory above this fraction of the available memory is a warning (no head room).
    public var memoryWarningFraction: Double = 0.9

    public init() {}

    /// The defaults.
    public static let standard = PlanCoefficients()

    /// These coefficients with the keys present in `json` (a JSON object with property names of this struct)
    /// replaced; unknown keys throw so a typo in a calibration file is not silently ignored.
    public func overriding(withJSON json: Data) throws -> PlanCoefficients {
        let base: [String: Any]
        let patch: [String: Any]
        do {
            let encoded = try JSONEncoder().encode(self)
            guard let object = try JSONSerialization.jsonObject(with: encoded) as? [String: Any] else {
                throw PlanError.invalidCoefficients(reason: "internal: defaults are not an object")
            }
            base = object
        } catch let error as PlanError { throw error } catch {
            throw PlanError.invalidCoefficients(reason: "internal: \(error)")
        }
        do {
            guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
                throw PlanError.invalidCoefficients(reason: "expected a JSON object")
            }
            patch = object
        } catch let error as PlanError { throw error } catch {
            throw PlanError.invalidCoefficients(reason: "not valid JSON: \(error.localizedDescription)")
        }
        let unknown = patch.keys.filter { base[$0] == nil }.sorted()
        if !unknown.isEmpty {
            throw PlanError.invalidCoefficients(reason: "unknown keys \(unknown.joined(separator: ", "))")
        }
        let merged = base.merging(patch) { _, new in new }
        do {
            let data = try JSONSerialization.data(withJSONObject: merged)
            return try JSONDecoder().decode(PlanCoefficients.self, from: data)
        } catch {
            throw PlanError.invalidCoefficients(reason: "a value has the wrong type: \(error)")
        }
    }
}
