// The attention kernel Tailor had before the blocked one: it materialises the (B, H, Tq, Tk) probabilities. Kept only
// as the baseline `tailor bench attention` measures the blocked kernel against (tools/bench/attention-rounds.sh).
import Dispatch
import TailorTensor

/// `tailor bench attention`: one attention forward and backward with the blocked kernel or the materialising one.
public enum AttentionBenchmark {
    public enum Kernel: String, Sendable, CaseIterable {
        /// `CPUBackend`'s kernel: online softmax, keeps the output and one log-sum-exp per row and head.
        case blocked
        /// The previous kernel: keeps the probabilities.
        case materialized
    }

    /// Seconds of the forward and of the backward, and the bytes the forward keeps for the backward besides q, k, v
    /// and the output.
    public static func time(_ kernel: Kernel, shape s: AttentionShape, query: Tensor, key: Tensor, value: Tensor,
                            dOutput: Tensor) -> (forward: Double, backward: Double, savedBytes: Int) {
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        let t0 = now()
        switch kernel {
        case .blocked:
            let out = attentionForward(query: query, key: key, value: value, shape: s, segments: nil, keepLogSumExp: true)
            let t1 = now()
            let lse = out.logSumExp ?? Tensor(zeros: [0])
            _ = attentionBackward(dOutput: dOutput, query: query, key: key, value: value, output: out.output, logSumExp: lse,
                                  shape: s, segments: nil)
            return (Double(t1 - t0) / 1e9, Double(now() - t1) / 1e9, lse.count * 4)
        case .materialized:
            let out = materializedAttentionForward(query: query, key: key, value: value, shape: s, segments: nil, keepProbabilities: true)
            let t1 = now()
            let p = out.probabilities ?? Tensor(zeros: [0])
            _ = materializedAttentionBackward(dOutput: dOutput, query: query, key: key, value: value, probabilities: p, shape: s)
            return (Double(t1 - t0) / 1e9, Double(now() - t1) / 1e9, p.count * 4)
        }
    }
}

/// Two BLAS products per (batch, head) with a masked softmax between them, keeping the probabilities `[B, H, Tq, Tk]`.
func materializedAttentionForward(query: Tensor, key: Tensor, value: Tensor, shape s: AttentionShape, segments: KeySegments?,
                      keepProbabilities: Bool) -> (output: Tensor, probabilities: Tensor?) {
    precondition(s.heads % s.kvHeads == 0, "attention: \(s.heads) heads are not a multiple of \(s.kvHeads) kv heads")
    precondition(query.count == s.batch * s.queryLength * s.heads * s.headDim, "attention: query \(query.shape)")
    precondition(key.count == s.batch * s.keyCapacity * s.kvHeads * s.headDim, "attention: key \(key.shape)")
    let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
    let group = h / g, scale = attentionScale(d)
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
                        for i in 0..<tq { maskedSoftmaxRow(p + i * tk, s, seg, batch: b, query: i) }
                        GEMM.sgemmSerial(transposeA: false, transposeB: false, m: tq, n: d, k: tk,
                                   a: p, lda: tk, b: vBase, ldb: g * d, c: op + b * tq * h * d + head * d, ldc: h * d)
                    }
                }
            }
        } } }
    }
    }
    probs.withUnsafeMutableFloatsIfPresent(run)
    return (out, probs)
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

/// dQ, dK, dV from the kept probabilities, four BLAS products per (batch, head).
func materializedAttentionBackward(dOutput: Tensor, query: Tensor, key: Tensor, value: Tensor, probabilities: Tensor,
                       shape s: AttentionShape) -> AttentionGradients {
    let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
    let group = h / g, scale = attentionScale(d)
    var dq = Tensor(zeros: query.shape), dk = Tensor(zeros: key.shape), dv = Tensor(zeros: value.shape)
    dq.withUnsafeMutableFloats { dqb in dk.withUnsafeMutableFloats { dkb in dv.withUnsafeMutableFloats { dvb in
        dOutput.withUnsafeFloats { dob in query.withUnsafeFloats { qb in key.withUnsafeFloats { kb in
            value.withUnsafeFloats { vb in probabilities.withUnsafeFloats { pb in
                let (dqp, dkp, dvp, dop, qp, kp, vp, pp) = (dqb.baseAddress!, dkb.baseAddress!, dvb.baseAddress!,
                    dob.baseAddress!, qb.baseAddress!, kb.baseAddress!, vb.baseAddress!, pb.baseAddress!)
                // One worker per (batch, kv head): the query heads of a group all add into the same dK, dV.
                Parallel.forEachChunk(s.batch * g, costPerItem: 8 * group * tq * tk * d) { range in
                    let ds = UnsafeMutablePointer<Float>.allocate(capacity: tq * tk)
                    defer { ds.deallocate() }
                    for pair in range {
                        let b = pair / g, kvHead = pair % g
                        let kvOffset = b * s.keyCapacity * g * d + kvHead * d
                        for head in (kvHead * group)..<((kvHead + 1) * group) {
                            let qOffset = b * tq * h * d + head * d
                            let p = pp + (b * h + head) * tq * tk
                            GEMM.sgemmSerial(transposeA: true, transposeB: false, m: tk, n: d, k: tq,
                                       a: p, lda: tk, b: dop + qOffset, ldb: h * d, beta: 1, c: dvp + kvOffset, ldc: g * d)
                            GEMM.sgemmSerial(transposeA: false, transposeB: true, m: tq, n: tk, k: d,
                                       a: dop + qOffset, lda: h * d, b: vp + kvOffset, ldb: g * d, c: ds, ldc: tk)
                            for i in 0..<tq {
                                let row = ds + i * tk, prow = p + i * tk
                                var dot: Float = 0
                                for j in 0..<tk { dot += row[j] * prow[j] }
                                for j in 0..<tk { row[j] = prow[j] * (row[j] - dot) }
                            }
                            GEMM.sgemmSerial(transposeA: false, transposeB: false, m: tq, n: d, k: tk, alpha: scale,
                                       a: ds, lda: tk, b: kp + kvOffset, ldb: g * d, c: dqp + qOffset, ldc: h * d)
                            GEMM.sgemmSerial(transposeA: true, transposeB: false, m: tk, n: d, k: tq, alpha: scale,
                                       a: ds, lda: tk, b: qp + qOffset, ldb: h * d, beta: 1, c: dkp + kvOffset, ldc: g * d)
                        }
                    }
                }
            } }
        } } }
    } } }
    return AttentionGradients(query: dq, key: dk, value: dv)
}
