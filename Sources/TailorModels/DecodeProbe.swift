// What one decoded token costs in weight traffic, and its weight products alone (the bandwidth figures of
// `tailor bench forward`).
import TailorTensor

extension LlamaModel {
    /// Bytes of weights one decoded token reads: every decoder linear layer as stored and the output head.
    public var decodeWeightBytes: Int {
        weights.layers.reduce(weights.outputPacked?.byteCount ?? weights.outputProductWeight.byteCount) { total, layer in
            total + layer.presentLinears.reduce(0) { $0 + (layer[linear: $1]?.weightByteCount ?? 0) }
        }
    }

    /// Runs the weight products of one decoded token (one input row through every decoder linear layer and the
    /// head) and nothing else; returns a checksum of the outputs so that no product can be skipped.
    public func decodeProducts(backend: any Backend) -> Float {
        let c = configuration
        let x = Tensor(shape: [1, c.hiddenSize], values: (0..<c.hiddenSize).map { Float($0 % 7) * 0.01 })
        let wide = Tensor(shape: [1, c.intermediateSize], values: (0..<c.intermediateSize).map { Float($0 % 5) * 0.01 })
        var checksum: Float = 0
        for layer in weights.layers {
            for slot in layer.presentLinears {
                guard let linear = layer[linear: slot] else { continue }
                let input = linear.inFeatures == c.hiddenSize ? x : linear.inFeatures == c.intermediateSize ? wide
                    : Tensor(zeros: [1, linear.inFeatures])
                checksum += linear.forward(input, backend: backend).withUnsafeFloats { $0[0] }
            }
        }
        return checksum + logits(x, backend: backend).withUnsafeFloats { $0[0] }
    }
}
