// Building the decoder's hyper-parameters from a checkpoint's configuration.
import TailorFormats

extension LlamaConfiguration {
    /// The decoder described by a config.json or GGUF configuration.
    public init(_ config: ModelConfig) {
        let scaling: RotaryScaling? = switch config.ropeScaling {
        case nil: nil
        case .linear(let factor): .linear(factor: Float(factor))
        case .llama3(let factor, let low, let high, let original):
            .llama3(factor: Float(factor), lowFrequencyFactor: Float(low), highFrequencyFactor: Float(high),
                    originalContextLength: original)
        }
        self.init(vocabSize: config.vocabSize, hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize,
                  layerCount: config.layerCount, headCount: config.headCount, kvHeadCount: config.kvHeadCount,
                  headDim: config.headDim, rmsNormEps: Float(config.rmsNormEps), ropeTheta: config.ropeTheta,
                  ropeScaling: scaling, qkvBias: config.qkvBias, outputBias: config.outputBias, mlpBias: config.mlpBias,
                  tieWordEmbeddings: config.tieWordEmbeddings)
        contextLength = max(1, config.maxPositionEmbeddings)
    }
}
