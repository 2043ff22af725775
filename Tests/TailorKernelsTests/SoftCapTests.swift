// Gemma 2's soft-capping: the elementwise op on logits and the attention scores' cap with a custom scale, forward
// and backward, fast kernels against the naive ones and both against finite differences of an independent f64
// formula.
import Foundation
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class SoftCapTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

    func testSoftCapForwardAndBackward() {
        let x = Tensor.random([7, 13], seed: 31, scale: 12), dy = Tensor.random([7, 13], seed: 32)
        let cap: Float = 5
        let expected = x.floats().map { Float(5 * Foundation.tanh(Double($0) / 5)) }
        for backend in [cpu as any Backend, reference] {
            let y = backend.softCap(x, cap: cap).floats()
            XCTAssertNil(closenessFailure(y, expected, tolerance: 1e-6, floor: 1e-6, what: "softCap (\(backend.name))"))
            XCTAssertTrue(y.allSatisfy { abs($0) < 5 }, "capped values stay inside ±cap")
            let dx = backend.softCapBackward(dOutput: dy, input: x, cap: cap).floats()
            // Central differences of Σ dy·cap·tanh(x/cap) in f64.
            let xs = x.floats().map(Double.init), u = dy.floats().map(Double.init)
            for i in stride(from: 0, to: xs.count, by: 5) {
                let h = 1e-6
                let numeric = u[i] * (5 * Foundation.tanh((xs[i] + h) / 5) - 5 * Foundation.tanh((xs[i] - h) / 5)) / (2 * h)
                XCTAssertEqual(Double(dx[i]), numeric, accuracy: 1e-5 * max(1, abs(numeric)), "softCap dx[\(i)] (\(backend.name))")
            }
        }
    }

    /// Soft-capped grouped-query attention with scale `scale` in f64, for finite differences.
    private func cappedAttention(_ q: [Double], _ k: [Double], _ v: [Double], _ s: AttentionShape, scale: Double, cap: Double,
                                 segments: [Int32]?) -> [Double] {
        let (tq, tk, d, h, g) = (s.queryLength, s.keyLength, s.headDim, s.heads, s.kvHeads)
        var out = [Double](repeating: 0, count: s.batch * tq * h * d)
        for b in 0..<s.batch { for head in 0..<h {
            let kvHead = head / (h / g)
            for i in 0..<tq {
                let position = s.queryOffset + i
                var scores = [Double](repeating: -.infinity, count: tk)
                for j in 0...min(position, tk - 1) {
                    if let w = s.slidingWindow, position - j >= w { continue }
                    if let segments {
                        let ks = segments[b * s.keyCapacity + j], qs = segments[b * s.keyCapacity + position]
                        if ks < 0 || (qs >= 0 && qs != ks) { continue }
                    }
                    var dot = 0.0
                    for e in 0..<d { dot += q[((b * tq + i) * h + head) * d + e] * k[((b * s.keyCapacity + j) * g + kvHead) * d + e] }
                    scores[j] = cap * Foundation.tanh(dot * scale / cap)
                }
                let mx = scores.max() ?? 0
                guard mx > -.infinity else { continue }
                let e = scores.map { Foundation.exp($0 - mx) }, sum = e.reduce(0, +)
                for j in 0..<tk where e[j] > 0 {
                    for c in 0..<d { out[((b * tq + i) * h + head) * d + c] += e[j] / sum * v[((b * s.keyCapacity + j) * g + kvHead) * d + c] }
                }
            }
        } }
        return out
    }

    func testSoftCappedAttentionWithCustomScaleForwardAndBackward() {
        // 2 rows, 4 query heads on 2 kv heads, head size 8 with scale 24^-0.5 (not 8^-0.5), cap 2 on scores that reach
        // ±6 or so (tanh far from linear), a window of 4, a padded key and a cache offset.
        let scale = Float(1 / Double(24).squareRoot()), cap: Float = 2
        let shape = AttentionShape(batch: 2, queryLength: 5, keyLength: 7, keyCapacity: 8, heads: 4, kvHeads: 2, headDim: 8,
                                   queryOffset: 2, slidingWindow: 4, scale: scale, logitSoftCap: cap)
        let q = Tensor.random([10, 32], seed: 41, scale: 4), k = Tensor.random([16, 16], seed: 42, scale: 2)
        let v = Tensor.random([16, 16], seed: 43), dO = Tensor.random([10, 32], seed: 44)
        var segments = [Int32](repeating: 0, count: 16)
        segments[1] = -1
        let (qd, kd, vd) = (q.floats().map(Double.init), k.floats().map(Double.init), v.floats().map(Double.init))
        let expected = cappedAttention(qd, kd, vd, shape, scale: Double(scale), cap: Double(cap), segments: segments).map(Float.init)
        let uncapped = cappedAttention(qd, kd, vd, shape, scale: Double(scale), cap: 1e9, segments: segments).map(Float.init)
        XCTAssertNotNil(closenessFailure(expected, uncapped, tolerance: 1e-2, what: "cap"), "the cap must matter on these scores")
        var results: [AttentionGradients] = []
        for backend in [cpu as any Backend, reference] {
            let forward = backend.attention(query: q, key: k, value: v, shape: shape, segments: segments, keepLogSumExp: true)
            if let failure = closenessFailure(forward.output.floats(), expected, tolerance: 1e-5, what: "capped attention (\(backend.name))") {
                XCTFail(failure)
            }
            guard let lse = forward.logSumExp else { return XCTFail("no log-sum-exp") }
            let grads = backend.attentionBackward(dOutput: dO, query: q, key: k, value: v, output: forward.output, logSumExp: lse,
                                                  shape: shape, segments: segments)
            results.append(grads)
            let u = dO.floats().map(Double.init)
            func loss(_ q: [Double], _ k: [Double], _ v: [Double]) -> Double {
                zip(u, cappedAttention(q, k, v, shape, scale: Double(scale), cap: Double(cap), segments: segments)).reduce(0) { $0 + $1.0 * $1.1 }
            }
            for (what, base, analytic, which) in [("dq", qd, grads.query.floats(), 0), ("dk", kd, grads.key.floats(), 1),
                                                  ("dv", vd, grads.value.floats(), 2)] {
                for i in stride(from: 3, to: base.count, by: 7) {
                    var plus = base, minus = base
                    plus[i] += 1e-6
                    minus[i] -= 1e-6
                    let args = { (x: [Double]) in which == 0 ? loss(x, kd, vd) : which == 1 ? loss(qd, x, vd) : loss(qd, kd, x) }
                    let numeric = (args(plus) - args(minus)) / 2e-6
                    XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 1e-4 * max(1e-1, abs(numeric)),
                                   "capped attention \(what)[\(i)] (\(backend.name))")
                }
            }
        }
        for (a, b, what) in [(results[0].query, results[1].query, "dq"), (results[0].key, results[1].key, "dk"),
                             (results[0].value, results[1].value, "dv")] {
            if let failure = closenessFailure(a.floats(), b.floats(), tolerance: 1e-5, what: "capped attention \(what) fast vs naive") {
                XCTFail(failure)
            }
        }
    }
}
