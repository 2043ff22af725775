// Grouped-query scaled dot-product attention with a causal mask, an optional sliding window and optional sample
// segments (packing, padding).
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

/// `1/sqrt(D)` rounded once to f32, as transformers' `head_dim ** -0.5` is.
func attentionScale(_ headDim: Int) -> Float { Float(1.0 / Double(headDim).squareRoot()) }

/// The score scale of `shape`: its own, or `1/sqrt(D)`.
func attentionScale(_ shape: AttentionShape) -> Float { shape.scale ?? attentionScale(shape.headDim) }

/// Fast path: two BLAS products per (batch, head) with a masked softmax between them.
func attentionForward(query: Tensor, key: Tensor, value: Tensor, shape s: AttentionShape, segments: KeySegments?,
                      keepProbabilities: Bool) -> AttentionOutput {
    precondition(s.heads % s.kvHeads == 0, "attention: \(s.heads) heads are not a multiple of \(s.kvHeads) kv heads")
    precondition(query.count == s.batch * s.queryLength * s.heads * s.headDim, "attention: query \(query.shape)")
    precondition(key.count == s.batch * s.keyCapacity * s.kvHeads * s.headDim, "attention: key \(key.shape)")
    let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
    let group = h / g, scale = attentionScale(s)
    var out = Tensor(uninitialized: [s.batch * tq, h * d])
    var probs = keepProbabilities ? Tensor(uninitialized: [s.batch, h, tq, tk]) : nil
    func run(_ probsBase: UnsafeMutablePointer<Float>?) {
    out.withUnsafeMutableFloats { o in
        query.withUnsafeFloats { q in key.withUnsafeFloats { k in value.withUnsafeFloats { v in
            let (op, qp, kp, vp) = (o.baseAddress!, q.baseAddress!, k.baseAddress!, v.baseAddress!)
            segments.withOptionalPointer { seg in
                let pairs = s.batch * h
                Parallel.forEachChunk(pairs, costPerItem: 4 * tq * tk * d) { range in
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tq * tk)
                    defer { scratch.deallocate() }
                    for pair in range {
                        let b = pair / h, head = pair % h, kvHead = head / group
                        let qBase = qp + b * tq * h * d + head * d
                        let kBase = kp + b * s.keyCapacity * g * d + kvHead * d
                        let vBase = vp + b * s.keyCapacity * g * d + kvHead * d
                        let p = probsBase.map { $0 + pair * tq * tk } ?? scratch
                        GEMM.sgemmSerial(transposeA: false, transposeB: true, m: tq, n: tk, k: d, alpha: scale,
                                   a: qBase, lda: h * d, b: kBase, ldb: g * d, c: p, ldc: tk)
                        if let cap = s.logitSoftCap {
                            for e in 0..<(tq * tk) { p[e] = softCapped(p[e], cap: cap) }
                        }
                        for i in 0..<tq { maskedSoftmaxRow(p + i * tk, s, seg, batch: b, query: i) }
                        GEMM.sgemmSerial(transposeA: false, transposeB: false, m: tq, n: d, k: tk,
                                   a: p, lda: tk, b: vBase, ldb: g * d, c: op + b * tq * h * d + head * d, ldc: h * d)
                    }
                }
            }
        } } }
    }
    }
    if var p = probs {
        probs = nil   // keep `p` the only reference so writing does not copy
        p.withUnsafeMutableFloats { run($0.baseAddress) }
        probs = p
    } else {
        run(nil)
    }
    return AttentionOutput(output: out, probabilities: probs)
}

/// In-place softmax of one score row over the visible keys; hidden keys become exactly 0.
@inline(__always)
private func maskedSoftmaxRow(_ row: UnsafeMutablePointer<Float>, _ s: AttentionShape, _ seg: UnsafePointer<Int32>?,
                              batch b: Int, query i: Int) {
    var maxValue = -Float.infinity
    for j in 0..<s.keyLength where keyIsVisible(s, seg, batch: b, query: i, key: j) { maxValue = max(maxValue, row[j]) }
    if maxValue == -.infinity {   // nothing visible: output zeros rather than NaN
        for j in 0..<s.keyLength { row[j] = 0 }
        return
    }
    var sum: Float = 0
    for j in 0..<s.keyLength {
        if keyIsVisible(s, seg, batch: b, query: i, key: j) {
            let e = fastExp(row[j] - maxValue)   // ≤ 0 after subtracting the maximum
            row[j] = e
            sum += e
        } else {
            row[j] = 0
        }
    }
    let inv = 1 / sum
    for j in 0..<s.keyLength { row[j] *= inv }
}

/// Naive oracle in f64.
func attentionForwardReference(query: Tensor, key: Tensor, value: Tensor, shape s: AttentionShape,
                               segments: KeySegments?, keepProbabilities: Bool) -> AttentionOutput {
    let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
    let q = query.floats(), k = key.floats(), v = value.floats()
    var out = [Float](repeating: 0, count: s.batch * tq * h * d)
    var probs = [Float](repeating: 0, count: s.batch * h * tq * tk)
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
                        scores[j] = s.scale.map { dot * Double($0) } ?? dot / Double(d).squareRoot()
                        if let cap = s.logitSoftCap { scores[j] = Double(cap) * Foundation.tanh(scores[j] / Double(cap)) }
                    }
                    let maxValue = scores.max() ?? -.infinity
                    guard maxValue > -.infinity else { continue }
                    let exps = scores.map { Foundation.exp($0 - maxValue) }
                    let sum = exps.reduce(0, +)
                    for j in 0..<tk {
                        let p = exps[j] / sum
                        probs[((b * h + head) * tq + i) * tk + j] = Float(p)
                        for e in 0..<d {
                            out[((b * tq + i) * h + head) * d + e] += Float(p * Double(v[((b * s.keyCapacity + j) * g + kvHead) * d + e]))
                        }
                    }
                }
            }
        }
    }
    return AttentionOutput(output: Tensor(shape: [s.batch * tq, h * d], values: out),
                           probabilities: keepProbabilities ? Tensor(shape: [s.batch, h, tq, tk], values: probs) : nil)
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
