// Backward of grouped-query attention from the saved softmax probabilities P.
// With S = scale·Q·Kᵀ, P = softmax(S) and O = P·V:
//   dV += Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP - rowsum(dP ⊙ P)),  dQ = scale·dS·K,  dK += scale·dSᵀ·Q.
// With a soft-cap (P = softmax(cap·tanh(S/cap))), dS is further multiplied by 1 - tanh²(S/cap), S recomputed.
import Foundation
import TailorTensor

func attentionBackward(dOutput: Tensor, query: Tensor, key: Tensor, value: Tensor, probabilities: Tensor,
                       shape s: AttentionShape) -> AttentionGradients {
    let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
    let group = h / g, scale = attentionScale(s)
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
                    let scores = s.logitSoftCap == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: tq * tk)
                    defer { scores?.deallocate() }
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
                            if let cap = s.logitSoftCap, let scores {
                                GEMM.sgemmSerial(transposeA: false, transposeB: true, m: tq, n: tk, k: d, alpha: scale,
                                           a: qp + qOffset, lda: h * d, b: kp + kvOffset, ldb: g * d, c: scores, ldc: tk)
                                for e in 0..<(tq * tk) { ds[e] *= softCapDerivative(scores[e], cap: cap) }
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

/// Naive oracle in f64.
func attentionBackwardReference(dOutput: Tensor, query: Tensor, key: Tensor, value: Tensor, probabilities: Tensor,
                                shape s: AttentionShape) -> AttentionGradients {
    let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
    let probs = probabilities.floats()
    let q = query.floats(), k = key.floats(), v = value.floats(), dO = dOutput.floats()
    var dq = [Double](repeating: 0, count: q.count), dk = [Double](repeating: 0, count: k.count)
    var dv = [Double](repeating: 0, count: v.count)
    let scale = s.scale.map(Double.init) ?? 1 / Double(d).squareRoot()
    for b in 0..<s.batch { for head in 0..<h {
        let kvHead = head / (h / g)
        for i in 0..<tq {
            let qi = ((b * tq + i) * h + head) * d
            var dp = [Double](repeating: 0, count: tk)
            for j in 0..<tk {
                let kj = ((b * s.keyCapacity + j) * g + kvHead) * d
                for e in 0..<d { dp[j] += Double(dO[qi + e]) * Double(v[kj + e]) }
            }
            let p = (0..<tk).map { Double(probs[((b * h + head) * tq + i) * tk + $0]) }
            let dot = (0..<tk).reduce(0.0) { $0 + dp[$1] * p[$1] }
            for j in 0..<tk {
                let kj = ((b * s.keyCapacity + j) * g + kvHead) * d
                var dsij = p[j] * (dp[j] - dot) * scale
                if let cap = s.logitSoftCap.map(Double.init) {
                    var score = 0.0
                    for e in 0..<d { score += Double(q[qi + e]) * Double(k[kj + e]) }
                    let t = Foundation.tanh(score * scale / cap)
                    dsij *= 1 - t * t
                }
                for e in 0..<d {
                    dq[qi + e] += dsij * Double(k[kj + e])
                    dk[kj + e] += dsij * Double(q[qi + e])
                    dv[kj + e] += p[j] * Double(dO[qi + e])
                }
            }
        }
    } }
    return AttentionGradients(query: Tensor(shape: query.shape, values: dq.map(Float.init)),
                              key: Tensor(shape: key.shape, values: dk.map(Float.init)),
                              value: Tensor(shape: value.shape, values: dv.map(Float.init)))
}
