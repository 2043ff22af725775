// Full fine-tuning's f32 master weights and the bf16 working copies that bf16 products read: which trained tensors
// are read only through such products, and holding a tensor as its working copy alone (a ZeRO-1 rank that does not
// own it: its owner keeps the master and sends the rounded copy after each step).
import TailorTensor

extension LlamaWeights {
    /// Whether the tensor in `slot` is read only as the weight operand of bf16 products (its f32 values feed nothing
    /// but the optimizer): a dense decoder linear weight or an untied output head, when their products run in bf16.
    /// The embedding (looked up in f32, even when tied to the head), norms, biases and adapters are read in f32.
    public func isBF16ProductOperand(_ slot: ParameterSlot) -> Bool {
        switch slot {
        case .weight(let l, let slot):
            guard let linear = layers[l][linear: slot] else { return false }
            return linear.precision == .bf16 && linear.packed == nil
        case .lmHead:
            return lmHead != nil && outputPrecision == .bf16
        default:
            return false
        }
    }

    /// The bf16 values the products read for `slot` (one of `isBF16ProductOperand`), made from the current weight:
    /// the rounding of its f32 master (nearest even, as `refreshComputeCopies` makes it), or the tensor itself when it
    /// is held as bf16.
    public func workingCopy(of slot: ParameterSlot) -> Tensor? {
        guard isBF16ProductOperand(slot), let tensor = self[slot] else { return nil }
        return tensor.converted(to: .bf16)
    }

    /// Holds the tensor in `slot` (one of `isBF16ProductOperand`) as `copy` alone: the bf16 values the products read,
    /// with its f32 master gone. `copy` must have the slot's shape; `refreshComputeCopies` then leaves it as it is.
    public mutating func holdWorkingCopyOnly(_ slot: ParameterSlot, _ copy: Tensor) {
        guard isBF16ProductOperand(slot), copy.dtype == .bf16, copy.shape == self[slot]?.shape else { return }
        copy.storage.refuseDerived()   // replaced every step, like a compute copy: not worth packing
        self[slot] = copy   // stored as bf16, like a frozen weight: the products read it directly
        switch slot {
        case .weight(let l, let slot): layers[l][linear: slot]?.computeCopy = nil
        case .lmHead: outputComputeCopy = nil
        default: break
        }
    }

    /// Whether `slot` is held as its bf16 working copy alone (`holdWorkingCopyOnly`).
    public func holdsWorkingCopyOnly(_ slot: ParameterSlot) -> Bool {
        isBF16ProductOperand(slot) && self[slot]?.dtype == .bf16
    }

    /// Bytes of the bf16 working copies held: copies of f32 masters, and tensors held as their copy alone.
    public var workingCopyByteCount: Int {
        var total = outputComputeCopy?.byteCount ?? 0
        if outputPrecision == .bf16, let head = lmHead, head.dtype == .bf16 { total += head.byteCount }
        for layer in layers {
            for slot in layer.presentLinears {
                guard let linear = layer[linear: slot], linear.precision == .bf16, linear.packed == nil else { continue }
                total += linear.computeCopy?.byteCount ?? (linear.weight.dtype == .bf16 ? linear.weight.byteCount : 0)
            }
        }
        return total
    }
}
