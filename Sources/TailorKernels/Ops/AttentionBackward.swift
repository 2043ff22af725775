// Backward of grouped-query attention. With S = scale·Q·Kᵀ (masked), P = softmax(S) and O = P·V:
//   dV += Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP - D) with D = rowsum(dO ⊙ O),  dQ = scale·dS·K,  dK += scale·dSᵀ·Q.
// With a soft-cap (P = softmax(T), T = cap·tanh(S/cap)), dS is further multiplied by dT/dS = 1 - (T/cap)².
// The fast kernel recomputes P block by block from the forward's log-sum-exp (P = exp(S - lse)); the reference
// recomputes the whole softmax in f64.
import CTailorKernels
import Foundation
import TailorTensor

func attentionBackward(dOutput: Tensor, query: Tensor, key: Tensor, value: Tensor, output: Tensor, logSumExp: Tensor,
                       shape s: AttentionShape, segments: KeySegments?) -> AttentionGradients {
    checkAttentionShape(s, query: query, key: key, value: value, segments: segments)
    precondition(key.dtype == .f32, "attention backward: f32 keys and values only, not \(key.dtype)")
    precondition(output.count == query.count && dOutput.count == query.count, "attention backward: output \(output.shape)")
    precondition(logSumExp.count == s.batch * s.queryLength * s.heads, "attention backward: log-sum-exp \(logSumExp.shape)")
    var dq = Tensor(uninitialized: query.shape), dk = Tensor(zeros: key.shape), dv = Tensor(zeros: value.shape)
    dq.withUnsafeMutableFloats { dqb in dk.withUnsafeMutableFloats { dkb in dv.withUnsafeMutableFloats { dvb in
        dOutput.withUnsafeFloats { dob in query.withUnsafeFloats { qb in key.withUnsafeFloats { kb in
            value.withUnsafeFloats { vb in output.withUnsafeFloats { ob in logSumExp.withUnsafeFloats { lb in
                let (dqp, dkp, dvp, dop) = (dqb.baseAddress!, dkb.baseAddress!, dvb.baseAddress!, dob.baseAddress!)
                let (qp, kp, vp, op, lp) = (qb.baseAddress!, kb.baseAddress!, vb.baseAddress!, ob.baseAddress!, lb.baseAddress!)
                segments.withOptionalPointer { seg in
                    withUnsafePointer(to: cShape(s, seg)) { cs in
                        // One worker per (batch, kv head): the query heads of a group all add into the same dK, dV.
                        let cost = 5 * (s.heads / s.kvHeads) * s.queryLength * s.keyLength * s.headDim
                        Parallel.forEachChunk(s.batch * s.kvHeads, costPerItem: cost) { range in
                            let status = tk_attention_backward(cs, qp, kp, vp, op, dop, lp, dqp, dkp, dvp,
                                                               Int64(range.lowerBound), Int64(range.upperBound))
                            precondition(status == 0, "attention backward: no memory for the kernel's scratch blocks")
                        }
                    }
                }
            } } }
        } } }
    } } }
    return AttentionGradients(query: dq, key: dk, value: dv)
}

/// Naive oracle in f64: the softmax recomputed from q and k under the same mask, nothing taken from the forward.
func attentionBackwardReference(dOutput: Tensor, query: Tensor, key: Tensor, value: Tensor,
                                shape s: AttentionShape, segments: KeySegments?) -> AttentionGradients {
    let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
    let q = query.floats(), k = key.floats(), v = value.floats(), dO = dOutput.floats()
    var dq = [Double](repeating: 0, count: q.count), dk = [Double](repeating: 0, count: k.count)
    var dv = [Double](repeating: 0, count: v.count)
    let scale = s.scale.map(Double.init) ?? 1 / Double(d).squareRoot()
    segments.withOptionalPointer { seg in
        for b in 0..<s.batch { for head in 0..<h {
            let kvHead = head / (h / g)
            for i in 0..<tq {
                let qi = ((b * tq + i) * h + head) * d
                var scores = [Double](repeating: -.infinity, count: tk)
                for j in 0..<tk where keyIsVisible(s, seg, batch: b, query: i, key: j) {
                    let kj = ((b * s.keyCapacity + j) * g + kvHead) * d
                    var dot = 0.0
                    for e in 0..<d { dot += Double(q[qi + e]) * Double(k[kj + e]) }
                    scores[j] = referenceScore(dot, s)
                }
                let maxValue = scores.max() ?? -.infinity
                guard maxValue > -.infinity else { continue }
                let exps = scores.map { Foundation.exp($0 - maxValue) }
                let sum = exps.reduce(0, +)
                let p = exps.map { $0 / sum }
                var dp = [Double](repeating: 0, count: tk)
                for j in 0..<tk where p[j] > 0 {
                    let kj = ((b * s.keyCapacity + j) * g + kvHead) * d
                    for e in 0..<d { dp[j] += Double(dO[qi + e]) * Double(v[kj + e]) }
                }
                let dot = (0..<tk).reduce(0.0) { $0 + dp[$1] * p[$1] }
                for j in 0..<tk where p[j] > 0 {
                    let kj = ((b * s.keyCapacity + j) * g + kvHead) * d
                    var dsij = p[j] * (dp[j] - dot) * scale
                    if let cap = s.logitSoftCap.map(Double.init) { dsij *= 1 - (scores[j] / cap) * (scores[j] / cap) }
                    for e in 0..<d {
                        dq[qi + e] += dsij * Double(k[kj + e])
                        dk[kj + e] += dsij * Double(q[qi + e])
                        dv[kj + e] += p[j] * Double(dO[qi + e])
                    }
                }
            }
        } }
    }
    return AttentionGradients(query: Tensor(shape: query.shape, values: dq.map(Float.init)),
                              key: Tensor(shape: key.shape, values: dk.map(Float.init)),
                              value: Tensor(shape: value.shape, values: dv.map(Float.init)))
}
