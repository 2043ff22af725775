// Grouped-query scaled dot-product attention with a causal mask, an optional sliding window and optional sample
// segments (packing, padding): the blocked kernel with an online softmax, and the naive f64 oracle.
import CTailorKernels
import Foundation
import TailorTensor

/// The rule shared by the fast and the reference kernel: may query `i` of batch entry `b` see key `j`?
@inline(__always)
func keyIsVisible(_ shape: AttentionShape, _ segments: UnsafePointer<Int32>?, batch b: Int, query i: Int, key j: Int) -> Bool {
    let position = shape.queryOffset + i
    guard j <= position else { return false }
    if let window = shape.slidingWindow, position - j >= window { return false }
    guard let segments else { return true }
    let keySegment = segments[b * shape.keyCapacity + j]
    if keySegment < 0 { return false }
    let querySegment = segments[b * shape.keyCapacity + position]
    return querySegment < 0 || querySegment == keySegment
}

/// `1/sqrt(D)` rounded once to f32, as transformers' `head_dim ** -0.5` is. The score transform (this scale, and any
/// further per-score function) is `score`/`score_backward` in FlashAttentionBody.h and `scores[j] = …` in the
/// reference below.
func attentionScale(_ headDim: Int) -> Float { Float(1.0 / Double(headDim).squareRoot()) }

/// The score scale of `shape`: its own (Gemma: `query_pre_attn_scalar^-0.5`), or `1/sqrt(D)`.
func attentionScale(_ shape: AttentionShape) -> Float { shape.scale ?? attentionScale(shape.headDim) }

/// Most query rows per kv head (query positions × the heads that share it) for which the forward takes the decode
/// kernel: with so few rows the blocked kernel's packing of K and V costs more than its products save.
let attentionDecodeMaxRows = 16

/// Fast path: the blocked kernel with an online softmax (`FlashAttention.c`), which keeps no T×T matrix. Work items
/// are (batch, kv head, block of 32 query positions), split over the cores. Decode-shaped calls (at most
/// `attentionDecodeMaxRows` rows per kv head) take `attentionDecode` instead.
func attentionForward(query: Tensor, key: Tensor, value: Tensor, shape s: AttentionShape, segments: KeySegments?,
                      keepLogSumExp: Bool) -> AttentionOutput {
    checkAttentionShape(s, query: query, key: key, value: value, segments: segments)
    if s.queryLength * (s.heads / s.kvHeads) <= attentionDecodeMaxRows {
        return attentionDecode(query: query, key: key, value: value, shape: s, segments: segments, keepLogSumExp: keepLogSumExp)
    }
    var out = Tensor(uninitialized: [s.batch * s.queryLength, s.heads * s.headDim])
    var lse = keepLogSumExp ? Tensor(uninitialized: [s.batch * s.queryLength, s.heads]) : nil
    func run(_ lseBase: UnsafeMutablePointer<Float>?) {
        out.withUnsafeMutableFloats { o in
            query.withUnsafeFloats { q in key.withUnsafeRawBytes { k in value.withUnsafeRawBytes { v in
                let (op, qp, kp, vp) = (o.baseAddress!, q.baseAddress!, k.baseAddress!, v.baseAddress!)
                segments.withOptionalPointer { seg in
                    withUnsafePointer(to: cShape(s, seg, keysAndValues: key.dtype)) { cs in
                        let items = Int(tk_attention_forward_items(cs))
                        let cost = 4 * (s.heads / s.kvHeads) * 32 * s.keyLength * s.headDim
                        Parallel.forEachChunk(items, costPerItem: cost) { range in
                            let status = tk_attention_forward(cs, qp, kp, vp, op, lseBase, Int64(range.lowerBound), Int64(range.upperBound))
                            precondition(status == 0, "attention: no memory for the kernel's scratch blocks")
                        }
                    }
                }
            } } }
        }
    }
    lse.withUnsafeMutableFloatsIfPresent(run)
    return AttentionOutput(output: out, logSumExp: lse)
}

/// Decode-shaped attention, split over chunks of 64 keys so that one query keeps every core busy (flash-decoding):
/// each chunk's partial softmax in parallel (`tk_attention_decode`), then their merge (`tk_attention_decode_combine`).
/// K and V are read in place, not packed.
func attentionDecode(query: Tensor, key: Tensor, value: Tensor, shape s: AttentionShape, segments: KeySegments?,
                     keepLogSumExp: Bool) -> AttentionOutput {
    var out = Tensor(uninitialized: [s.batch * s.queryLength, s.heads * s.headDim])
    var lse = keepLogSumExp ? Tensor(uninitialized: [s.batch * s.queryLength, s.heads]) : nil
    let rows = s.queryLength * (s.heads / s.kvHeads)
    segments.withOptionalPointer { seg in
        withUnsafePointer(to: cShape(s, seg, keysAndValues: key.dtype)) { cs in
            let items = Int(tk_attention_decode_items(cs))
            let partial = UnsafeMutablePointer<Float>.allocate(capacity: items * rows * (s.headDim + 2))
            defer { partial.deallocate() }
            query.withUnsafeFloats { q in key.withUnsafeRawBytes { k in value.withUnsafeRawBytes { v in
                let (qp, kp, vp, pp) = (q.baseAddress!, k.baseAddress!, v.baseAddress!, UncheckedSendable(partial))
                Parallel.forEachChunk(items, costPerItem: 4 * rows * 64 * s.headDim) { range in
                    let status = tk_attention_decode(cs, qp, kp, vp, pp.value, Int64(range.lowerBound), Int64(range.upperBound))
                    precondition(status == 0, "attention: no memory for the decode kernel's scratch")
                }
            } } }
            out.withUnsafeMutableFloats { o in
                lse.withUnsafeMutableFloatsIfPresent { tk_attention_decode_combine(cs, partial, o.baseAddress!, $0) }
            }
        }
    }
    return AttentionOutput(output: out, logSumExp: lse)
}

/// Sizes the kernels index by; a mismatch is a programming error in the model code.
func checkAttentionShape(_ s: AttentionShape, query: Tensor, key: Tensor, value: Tensor, segments: KeySegments?) {
    precondition(s.kvHeads > 0 && s.heads % s.kvHeads == 0, "attention: \(s.heads) heads are not a multiple of \(s.kvHeads) kv heads")
    precondition(s.keyLength <= s.keyCapacity, "attention: \(s.keyLength) keys exceed the capacity \(s.keyCapacity)")
    precondition(query.count == s.batch * s.queryLength * s.heads * s.headDim, "attention: query \(query.shape)")
    precondition(key.count == s.batch * s.keyCapacity * s.kvHeads * s.headDim, "attention: key \(key.shape)")
    precondition(value.count == key.count, "attention: value \(value.shape)")
    precondition(key.dtype == value.dtype && [.f32, .f16].contains(key.dtype), "attention: keys \(key.dtype), values \(value.dtype)")
    precondition(query.dtype == .f32, "attention: query \(query.dtype)")
    precondition((s.slidingWindow ?? 1) > 0, "attention: sliding window \(s.slidingWindow ?? 0)")
    if let segments {
        precondition(segments.count == s.batch * s.keyCapacity, "attention: \(segments.count) segment ids")
        precondition(s.queryOffset + s.queryLength <= s.keyCapacity, "attention: queries past the key capacity")
    }
}

/// The C view of `s`; `segments` must outlive its use.
func cShape(_ s: AttentionShape, _ segments: UnsafePointer<Int32>?, keysAndValues dtype: DType = .f32) -> tk_attention_shape {
    tk_attention_shape(batch: Int64(s.batch), query_length: Int64(s.queryLength), key_length: Int64(s.keyLength),
                       key_capacity: Int64(s.keyCapacity), heads: Int64(s.heads), kv_heads: Int64(s.kvHeads),
                       head_dim: Int64(s.headDim), query_offset: Int64(s.queryOffset),
                       sliding_window: Int64(s.slidingWindow ?? 0), kv_f16: dtype == .f16 ? 1 : 0, scale: attentionScale(s),
                       soft_cap: s.logitSoftCap ?? 0, segments: segments)
}

/// Naive oracle in f64.
func attentionForwardReference(query: Tensor, key: Tensor, value: Tensor, shape s: AttentionShape,
                               segments: KeySegments?, keepLogSumExp: Bool) -> AttentionOutput {
    let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
    let q = query.floats(), k = key.floats(), v = value.floats()
    var out = [Float](repeating: 0, count: s.batch * tq * h * d)
    var lse = [Float](repeating: -.infinity, count: s.batch * tq * h)
    segments.withOptionalPointer { seg in
        for b in 0..<s.batch {
            for head in 0..<h {
                let kvHead = head / (h / g)
                for i in 0..<tq {
                    var scores = [Double](repeating: -.infinity, count: tk)
                    for j in 0..<tk where keyIsVisible(s, seg, batch: b, query: i, key: j) {
                        var dot = 0.0
                        for e in 0..<d {
                            dot += Double(q[((b * tq + i) * h + head) * d + e]) * Double(k[((b * s.keyCapacity + j) * g + kvHead) * d + e])
                        }
                        scores[j] = referenceScore(dot, s)
                    }
                    let maxValue = scores.max() ?? -.infinity
                    guard maxValue > -.infinity else { continue }
                    let exps = scores.map { Foundation.exp($0 - maxValue) }
                    let sum = exps.reduce(0, +)
                    lse[(b * tq + i) * h + head] = Float(maxValue + Foundation.log(sum))
                    for j in 0..<tk {
                        let p = exps[j] / sum
                        for e in 0..<d {
                            out[((b * tq + i) * h + head) * d + e] += Float(p * Double(v[((b * s.keyCapacity + j) * g + kvHead) * d + e]))
                        }
                    }
                }
            }
        }
    }
    return AttentionOutput(output: Tensor(shape: [s.batch * tq, h * d], values: out),
                           logSumExp: keepLogSumExp ? Tensor(shape: [s.batch * tq, h], values: lse) : nil)
}

/// The reference's score of a raw q·k in f64: scaled, then soft-capped (`cap·tanh(s/cap)`) where the shape has a cap.
func referenceScore(_ dot: Double, _ s: AttentionShape) -> Double {
    let scaled = dot * (s.scale.map(Double.init) ?? 1 / Double(s.headDim).squareRoot())
    guard let cap = s.logitSoftCap.map(Double.init) else { return scaled }
    return cap * Foundation.tanh(scaled / cap)
}

extension Optional where Wrapped == Tensor {
    /// Runs `body` with the tensor's floats to write in place, or with nil when there is no tensor (an output the
    /// caller did not ask for).
    mutating func withUnsafeMutableFloatsIfPresent(_ body: (UnsafeMutablePointer<Float>?) -> Void) {
        guard var tensor = self else { return body(nil) }
        self = nil   // keep `tensor` the only reference so writing does not copy
        tensor.withUnsafeMutableFloats { body($0.baseAddress) }
        self = tensor
    }
}

extension Optional where Wrapped == [Int32] {
    /// Calls `body` with a pointer to the array's elements, or nil.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
        switch self {
        case .some(let array): array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: body(nil)
        }
    }
}
