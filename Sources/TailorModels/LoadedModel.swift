// A model read from disk: its checkpoint (files, configuration, tensor summary) and the decoder built from it.
import Foundation
import TailorFormats
import TailorTensor

/// A Llama-family model loaded from a Hugging Face folder or a GGUF file.
public struct LoadedModel: Sendable {
    /// What was read: configuration, tensors, summaries, format.
    public let checkpoint: ModelCheckpoint
    /// The decoder ready to run.
    public private(set) var model: LlamaModel

    /// Reads `url` (a folder with config.json and safetensors, or a .gguf file) and builds the decoder.
    public static func load(from url: URL) throws -> LoadedModel {
        var checkpoint = try ModelCheckpoint.load(from: url)
        guard ModelConfig.supportedModelTypes[checkpoint.config.modelType] != nil else {
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

    /// The same model stored for inference in `precision` (see `storeForInference`); the original is kept.
    public func withMatmulPrecision(_ precision: InferencePrecision) -> LoadedModel {
        var converted = self
        converted.storeForInference(precision)
        return converted
    }

    /// Stores the weights for inference in `precision`, in place: f32 as they are, bf16 as `withMatmulPrecision`,
    /// int8 with the decoder's linear layers as q8_0 blocks (`LlamaWeights.storeLinearLayersAsInt8`). When this
    /// value holds the only reference to its weights, each original is freed as soon as it is converted, so the
    /// model is never held twice over (SmolLM2 in bf16: 0.77 GB peak resident memory instead of 0.96).
    public mutating func storeForInference(_ precision: InferencePrecision) {
        switch precision {
        case .f32: return
        case .bf16: model.weights.setMatmulPrecision(.bf16, storeFrozenAsBF16: true)
        case .int8: model.weights.storeLinearLayersAsInt8()
        }
    }
}

/// How inference stores the weights and runs the products with them.
public enum InferencePrecision: String, Sendable, CaseIterable {
    /// f32 weights, f32 products.
    case f32
    /// bf16 weights, bf16 products with f32 sums (`MatmulPrecision.bf16`).
    case bf16
    /// Decoder linear layers as q8_0 blocks (int8 with one scale per 32 weights), the inputs quantized the same way
    /// (llama.cpp's q8_0); embedding and output head in bf16.
    case int8

    /// The default: bf16 where the CPU has bf16 dot products, f32 elsewhere (as training's `MatmulPrecision.native`).
    public static let native = InferencePrecision(rawValue: MatmulPrecision.native.rawValue) ?? .f32
}
