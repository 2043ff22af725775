// Phi-3's fused projections: one `qkv_proj` (output columns q, k, v) and one `gate_up_proj` (gate, up) run as one
// product (adapter included, as PEFT wraps the fused layer) whose output is split by columns; backward joins the
// column gradients and runs one backward. Legend: M rows, C channels, F feed-forward, H/G query/kv heads, D head size.
import TailorFormats
import TailorTensor

extension Tensor {
    /// The column blocks of an (M, Σ widths) tensor, left to right, each (M, widthᵢ) in this tensor's dtype.
    func splittingColumns(_ widths: [Int]) -> [Tensor] {
        let rows = shape[0], total = shape[shape.count - 1], size = dtype.byteSize
        precondition(widths.reduce(0, +) == total, "column split: widths \(widths) do not add up to \(total)")
        var start = 0
        return widths.map { width in
            var part = Tensor(uninitialized: [rows, width], dtype: dtype)
            withUnsafeRawBytes { src in
                part.withUnsafeMutableRawBytes { dst in
                    guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                    for r in 0..<rows {
                        (d + r * width * size).copyMemory(from: s + (r * total + start) * size, byteCount: width * size)
                    }
                }
            }
            start += width
            return part
        }
    }

    /// (M, Σ widths) from (M, widthᵢ) blocks of one dtype placed side by side: the inverse of `splittingColumns`.
    init(concatenatingColumns parts: [Tensor]) {
        let rows = parts[0].shape[0], dtype = parts[0].dtype, size = dtype.byteSize
        let widths = parts.map { $0.shape[$0.shape.count - 1] }, total = widths.reduce(0, +)
        var out = Tensor(uninitialized: [rows, total], dtype: dtype)
        var start = 0
        for (part, width) in zip(parts, widths) {
            precondition(part.shape[0] == rows && part.dtype == dtype, "column concatenation: mismatched parts")
            part.withUnsafeRawBytes { src in
                out.withUnsafeMutableRawBytes { dst in
                    guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                    for r in 0..<rows {
                        (d + (r * total + start) * size).copyMemory(from: s + r * width * size, byteCount: width * size)
                    }
                }
            }
            start += width
        }
        self = out
    }
}

/// Runs one linear layer of a block backward.
typealias ProjectLayer = (_ slot: LinearSlot, _ linear: Linear, _ input: Tensor) -> Tensor

/// Runs linear layers of a block forward that share one input (q/k/v, gate/up, or one layer alone), one output each
/// in order: plainly (`Linear.forward(_:_:backend:)`), keeping what training needs, or with per-row adapters.
typealias ProjectLayers = (_ slots: [LinearSlot], _ linears: [Linear], _ input: Tensor) -> [Tensor]

extension LlamaLayerWeights {
    /// q (M, H·D), k and v (M, G·D) of the normed input, before head norms and RoPE.
    func queryKeyValue(_ x: Tensor, configuration c: ModelConfig, project: ProjectLayers) -> (q: Tensor, k: Tensor, v: Tensor) {
        if let qkvProj {
            let kv = c.kvHeadCount * c.headDim
            let parts = project([.qkv], [qkvProj], x)[0].splittingColumns([c.headCount * c.headDim, kv, kv])
            return (parts[0], parts[1], parts[2])
        }
        guard let qProj, let kProj, let vProj else { preconditionFailure("a block holds q/k/v_proj or qkv_proj") }
        let parts = project([.q, .k, .v], [qProj, kProj, vProj], x)
        return (parts[0], parts[1], parts[2])
    }

    /// gate and up (M, F) of the normed input.
    func gateAndUp(_ y: Tensor, project: ProjectLayers) -> (gate: Tensor, up: Tensor) {
        if let gateUpProj {
            let fused = project([.gateUp], [gateUpProj], y)[0]
            let parts = fused.splittingColumns([fused.shape[1] / 2, fused.shape[1] / 2])
            return (parts[0], parts[1])
        }
        guard let gateProj, let upProj else { preconditionFailure("a block holds gate/up_proj or gate_up_proj") }
        let parts = project([.gate, .up], [gateProj, upProj], y)
        return (parts[0], parts[1])
    }

    /// The gradient of the normed input from dq, dk, dv; `back` runs one named layer's backward and returns its dx.
    func queryKeyValueBackward(dq: Tensor, dk: Tensor, dv: Tensor, backend: any Backend, back: ProjectLayer) -> Tensor {
        if let qkvProj {
            return back(.qkv, qkvProj, Tensor(concatenatingColumns: [dq, dk, dv]))
        }
        guard let qProj, let kProj, let vProj else { preconditionFailure("a block holds q/k/v_proj or qkv_proj") }
        return backend.add(backend.add(back(.q, qProj, dq), back(.k, kProj, dk)), back(.v, vProj, dv))
    }

    /// The gradient of the MLP's normed input from dGate and dUp.
    func gateAndUpBackward(dGate: Tensor, dUp: Tensor, backend: any Backend, back: ProjectLayer) -> Tensor {
        if let gateUpProj {
            return back(.gateUp, gateUpProj, Tensor(concatenatingColumns: [dGate, dUp]))
        }
        guard let gateProj, let upProj else { preconditionFailure("a block holds gate/up_proj or gate_up_proj") }
        return backend.add(back(.gate, gateProj, dGate), back(.up, upProj, dUp))
    }
}
