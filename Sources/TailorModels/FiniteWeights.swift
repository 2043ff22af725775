// Weights are checked for NaN and infinity when a model is loaded, so a corrupt checkpoint is named by its tensor
// instead of surfacing as `nan` losses or replies with exit status 0.
import TailorFormats
import TailorTensor

extension ModelCheckpoint {
    /// Throws `ModelError.invalidInput` naming the first tensor (by name) holding a NaN or an infinity, and the
    /// element's index. Floating-point tensors are scanned in their stored type; quantized blocks are not.
    public func checkFiniteWeights() throws {
        for name in tensors.keys.sorted() {
            guard let tensor = tensors[name], let index = tensor.firstNonFiniteIndex else { continue }
            throw ModelError.invalidInput("\(sourceURL.path): tensor \(String(reflecting: name)) holds NaN or infinite values (first at element \(index)); the checkpoint is corrupt")
        }
    }
}

extension Tensor {
    /// Index of the first NaN or infinity, by the exponent bits of the stored type (all ones means not finite).
    var firstNonFiniteIndex: Int? {
        withUnsafeRawBytes { raw -> Int? in
            switch dtype {
            case .f32:
                let bits = raw.bindMemory(to: UInt32.self)
                return bits.firstIndex { $0 & 0x7F80_0000 == 0x7F80_0000 }
            case .bf16:
                let bits = raw.bindMemory(to: UInt16.self)
                return bits.firstIndex { $0 & 0x7F80 == 0x7F80 }
            case .f16:
                let bits = raw.bindMemory(to: UInt16.self)
                return bits.firstIndex { $0 & 0x7C00 == 0x7C00 }
            case .f64:
                let bits = raw.bindMemory(to: UInt64.self)
                return bits.firstIndex { $0 & 0x7FF0_0000_0000_0000 == 0x7FF0_0000_0000_0000 }
            case .i32, .i64, .u8:
                return nil
            }
        }
    }
}
