// A model read from disk: its checkpoint (files, configuration, tensor summary) and the decoder built from it.
import Foundation
import TailorFormats
import TailorTensor

/// A Llama-family model loaded from a Hugging Face folder or a GGUF file.
public struct LoadedModel: Sendable {
    /// What was read: configuration, tensors, summaries, format.
    public let checkpoint: ModelCheckpoint
    /// The decoder ready to run.
    public let model: LlamaModel

    /// Reads `url` (a folder with config.json and safetensors, or a .gguf file) and builds the decoder.
    public static func load(from url: URL) throws -> LoadedModel {
        var checkpoint = try ModelCheckpoint.load(from: url)
        guard ["llama", "mistral", "qwen2", "qwen3"].contains(checkpoint.config.modelType) else {
            throw ModelError.unsupportedArchitecture(checkpoint.config.modelType, source: url.path)
        }
        try checkpoint.checkFiniteWeights()
        let configuration = checkpoint.config
        let weights = try LlamaWeights(configuration: configuration, tensors: checkpoint.tensors, source: url.path)
        // The decoded tensors now live in `weights` only: a checkpoint kept for its metadata must not pin a second
        // reference, or full fine-tuning's first in-place update would copy every weight.
        checkpoint.tensors = [:]
        return LoadedModel(checkpoint: checkpoint, model: LlamaModel(configuration: configuration, weights: weights))
    }

    /// The same model with its products in `precision`; with bf16 the weights are stored as bf16 too (inference:
    /// nothing is trained, half the memory and half the bytes each decoded token reads).
    public func withMatmulPrecision(_ precision: MatmulPrecision) -> LoadedModel {
        guard precision != .f32 else { return self }
        var weights = model.weights
        weights.setMatmulPrecision(precision, storeFrozenAsBF16: true)
        return LoadedModel(checkpoint: checkpoint, model: LlamaModel(configuration: model.configuration, weights: weights))
    }
}
