// Finite-difference checks in f64 of every backward kernel, and fast backward kernels against the naive ones.
//
// For an op y = f(x) and a random upstream gradient u, L(x) = Σ u·f(x). The analytic gradient (from the f32
// kernel) must equal the central difference (L(x + εe) - L(x - εe)) / 2ε of an independent f64 forward.
import Foundation
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class GradientCheckTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

    /// Compares `analytic` with finite differences of `loss` (f64) at a seeded sample of coordinates of `x`.
    /// f32 kernels against an f64 reference: 1e-4 relative (absolute floor 1e-3 for near-zero gradients).
    func check(_ what: String, x: [Float], analytic: [Float], samples: Int = 24,
               loss: ([Double]) -> Double, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: 99)
        let base = x.map(Double.init), eps = 1e-6
        for _ in 0..<samples {
            let i = Int(rng.next() % UInt64(x.count))
            var plus = base, minus = base
            plus[i] += eps
            minus[i] -= eps
            let numeric = (loss(plus) - loss(minus)) / (2 * eps)
            let error = abs(Double(analytic[i]) - numeric) / max(abs(numeric), 1e-3)
            XCTAssertLessThan(error, 1e-4, "\(what)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)", file: file, line: line)
        }
    }

    func upstream(_ count: Int, seed: UInt64) -> [Float] { Tensor.random([count], seed: seed).floats() }
    func dot(_ u: [Float], _ y: [Double]) -> Double { zip(u, y).reduce(0) { $0 + Double($1.0) * $1.1 } }

    func testLinear() {
        let (m, k, n) = (5, 7, 6)
        let x = Tensor.random([m, k], seed: 1), w = Tensor.random([n, k], seed: 2), b = Tensor.random([n], seed: 3)
        let u = upstream(m * n, seed: 4)
        func f(_ x: [Double], _ w: [Double], _ b: [Double]) -> [Double] {
            (0..<(m * n)).map { idx in
                let (i, j) = (idx / n, idx % n)
                return (0..<k).reduce(b[j]) { $0 + x[i * k + $1] * w[j * k + $1] }
            }
        }
        var dw: Tensor? = Tensor(zeros: [n, k]), db: Tensor? = Tensor(zeros: [n])
        let dx = cpu.linearBackward(dOutput: Tensor(shape: [m, n], values: u), input: x, weight: w,
                                    weightGradient: &dw, biasGradient: &db, needInputGradient: true)
        let (xd, wd, bd) = (x.floats().map(Double.init), w.floats().map(Double.init), b.floats().map(Double.init))
        check("linear dx", x: x.floats(), analytic: dx?.floats() ?? []) { dot(u, f($0, wd, bd)) }
        check("linear dW", x: w.floats(), analytic: dw?.floats() ?? []) { dot(u, f(xd, $0, bd)) }
        check("linear db", x: b.floats(), analytic: db?.floats() ?? []) { dot(u, f(xd, wd, $0)) }
    }

    func testRMSNorm() {
        let (m, c) = (4, 16), eps: Float = 1e-5
        let x = Tensor.random([m, c], seed: 5, scale: 2), w = Tensor.random([c], seed: 6)
        let u = upstream(m * c, seed: 7)
        func f(_ x: [Double], _ w: [Double]) -> [Double] {
            (0..<m).flatMap { i -> [Double] in
                let row = x[(i * c)..<(i * c + c)]
                let r = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(c) + Double(eps)).squareRoot()
                return (0..<c).map { w[$0] * x[i * c + $0] * r }
            }
        }
        let forward = cpu.rmsNorm(x, weight: w, eps: eps)
        var dw: Tensor? = Tensor(zeros: [c])
        let dx = cpu.rmsNormBackward(dOutput: Tensor(shape: [m, c], values: u), input: x, weight: w,
                                     inverseRMS: forward.inverseRMS, adding: nil, weightGradient: &dw)
        let (xd, wd) = (x.floats().map(Double.init), w.floats().map(Double.init))
        check("rmsnorm dx", x: x.floats(), analytic: dx.floats()) { dot(u, f($0, wd)) }
        check("rmsnorm dw", x: w.floats(), analytic: dw?.floats() ?? []) { dot(u, f(xd, $0)) }
    }

    func testRotary() {
        let (m, heads, d) = (3, 2, 8)
        let angles = cpu.rotaryAngles(positions: [0, 3, 11], inverseFrequencies: [1, 0.3, 0.05, 0.001])
        let (cs, sn) = (angles.cos.floats().map(Double.init), angles.sin.floats().map(Double.init))
        let x = Tensor.random([m, heads * d], seed: 8), u = upstream(m * heads * d, seed: 9)
        func f(_ x: [Double]) -> [Double] {
            var y = x
            for r in 0..<m { for h in 0..<heads { for i in 0..<(d / 2) {
                let base = (r * heads + h) * d, (a, b) = (x[base + i], x[base + i + d / 2])
                y[base + i] = a * cs[r * 4 + i] - b * sn[r * 4 + i]
                y[base + i + d / 2] = b * cs[r * 4 + i] + a * sn[r * 4 + i]
            } } }
            return y
        }
        let dx = cpu.applyRotaryBackward(Tensor(shape: [m, heads * d], values: u), heads: heads, angles: angles)
        check("rope dx", x: x.floats(), analytic: dx.floats()) { dot(u, f($0)) }
    }

    func testSwiGLU() {
        let g = Tensor.random([40], seed: 10, scale: 4), up = Tensor.random([40], seed: 11), u = upstream(40, seed: 12)
        func f(_ g: [Double], _ up: [Double]) -> [Double] { g.indices.map { g[$0] / (1 + Foundation.exp(-g[$0])) * up[$0] } }
        let grads = cpu.swigluBackward(dOutput: Tensor(shape: [40], values: u), gate: g, up: up)
        let (gd, ud) = (g.floats().map(Double.init), up.floats().map(Double.init))
        check("swiglu dgate", x: g.floats(), analytic: grads.gate.floats()) { dot(u, f($0, ud)) }
        check("swiglu dup", x: up.floats(), analytic: grads.up.floats()) { dot(u, f(gd, $0)) }
    }

    func testGeGLU() {
        let g = Tensor.random([40], seed: 20, scale: 4), up = Tensor.random([40], seed: 21), u = upstream(40, seed: 22)
        func f(_ g: [Double], _ up: [Double]) -> [Double] {
            g.indices.map { 0.5 * g[$0] * (1 + Foundation.tanh(0.7978845608028654 * (g[$0] + 0.044715 * g[$0] * g[$0] * g[$0]))) * up[$0] }
        }
        let grads = cpu.gegluBackward(dOutput: Tensor(shape: [40], values: u), gate: g, up: up)
        let (gd, ud) = (g.floats().map(Double.init), up.floats().map(Double.init))
        check("geglu dgate", x: g.floats(), analytic: grads.gate.floats()) { dot(u, f($0, ud)) }
        check("geglu dup", x: up.floats(), analytic: grads.up.floats()) { dot(u, f(gd, $0)) }
        // torch.nn.functional.gelu(z, approximate="tanh") in float64 (torch 2.13), up = 1.
        let z: [Float] = [-6, -3, -1.5, -0.5, 0, 0.25, 1, 2.5, 7]
        let torchValues: [Float] = [-8.4e-11, -0.003637392082, -0.10042842302, -0.154285990175, 0, 0.149675350702,
                                    0.841191990608, 2.48491573391, 7]
        let fast = cpu.gegluBackward(dOutput: Tensor(shape: [40], values: u), gate: g, up: up)
        let slow = ReferenceBackend().gegluBackward(dOutput: Tensor(shape: [40], values: u), gate: g, up: up)
        assertClose(fast.gate, slow.gate, tolerance: 1e-6, "geglu dgate fast vs naive")
        assertClose(fast.up, slow.up, tolerance: 1e-6, "geglu dup fast vs naive")
        let ones = Tensor(shape: [9], values: [Float](repeating: 1, count: 9))
        for backend in [cpu as any Backend, ReferenceBackend()] {
            let ours = backend.geglu(gate: Tensor(shape: [9], values: z), up: ones).floats()
            for (a, b) in zip(ours, torchValues) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)), "\(backend.name) gelu_tanh") }
        }
    }

    func testCrossEntropy() {
        let (m, v) = (4, 30)
        let logits = Tensor.random([m, v], seed: 13, scale: 5), targets: [Int32] = [3, -100, 29, 0]
        let weights: [Float] = [0.25, 0.25, 0.5, 1]
        func loss(_ l: [Double]) -> Double {
            (0..<m).reduce(0.0) { total, r in
                guard targets[r] != -100 else { return total }
                let row = l[(r * v)..<((r + 1) * v)], mx = row.max() ?? 0
                let lse = Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - mx) }) + mx
                return total + Double(weights[r]) * (lse - l[r * v + Int(targets[r])])
            }
        }
        let dl = cpu.crossEntropyBackward(logits: logits, targets: targets, dLoss: weights)
        check("cross-entropy dlogits", x: logits.floats(), analytic: dl.floats(), loss: loss)
    }

    func testAttention() {
        let shape = AttentionShape(batch: 2, queryLength: 5, keyLength: 5, heads: 4, kvHeads: 2, headDim: 4)
        let q = Tensor.random([10, 16], seed: 14), k = Tensor.random([10, 8], seed: 15), v = Tensor.random([10, 8], seed: 16)
        var segments = [Int32](repeating: 0, count: 10)
        segments[9] = -1; segments[8] = -1   // right padding in row 1
        let u = upstream(10 * 16, seed: 17)
        func f(_ q: [Double], _ k: [Double], _ v: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: 10 * 16)
            for b in 0..<2 { for h in 0..<4 { for i in 0..<5 {
                let kvh = h / 2
                var scores = [Double](repeating: -.infinity, count: 5)
                for j in 0...i where segments[b * 5 + j] >= 0 || segments[b * 5 + i] < 0 {
                    if segments[b * 5 + j] < 0 { continue }
                    var score = 0.0
                    for e in 0..<4 {
                        let qi: Int = ((b * 5 + i) * 4 + h) * 4 + e
                        let kj: Int = ((b * 5 + j) * 2 + kvh) * 4 + e
                        score += q[qi] * k[kj]
                    }
                    scores[j] = score / 2
                }
                let mx = scores.max() ?? 0, e = scores.map { Foundation.exp($0 - mx) }, s = e.reduce(0, +)
                for j in 0..<5 {
                    for d in 0..<4 {
                        let oi: Int = ((b * 5 + i) * 4 + h) * 4 + d
                        let vj: Int = ((b * 5 + j) * 2 + kvh) * 4 + d
                        out[oi] += e[j] / s * v[vj]
                    }
                }
            } } }
            return out
        }
        let forward = cpu.attention(query: q, key: k, value: v, shape: shape, segments: segments, keepLogSumExp: true)
        guard let lse = forward.logSumExp else { return XCTFail("no log-sum-exp") }
        let grads = cpu.attentionBackward(dOutput: Tensor(shape: [10, 16], values: u), query: q, key: k, value: v,
                                          output: forward.output, logSumExp: lse, shape: shape, segments: segments)
        let (qd, kd, vd) = (q.floats().map(Double.init), k.floats().map(Double.init), v.floats().map(Double.init))
        check("attention dq", x: q.floats(), analytic: grads.query.floats()) { dot(u, f($0, kd, vd)) }
        check("attention dk", x: k.floats(), analytic: grads.key.floats()) { dot(u, f(qd, $0, vd)) }
        check("attention dv", x: v.floats(), analytic: grads.value.floats()) { dot(u, f(qd, kd, $0)) }
    }

    func testFastBackwardKernelsMatchReference() {
        let dy = Tensor.random([9, 40], seed: 20), x = Tensor.random([9, 33], seed: 21), w = Tensor.random([40, 33], seed: 22)
        for dtype in [DType.f32, .bf16] {
            var (dw1, db1): (Tensor?, Tensor?) = (Tensor(zeros: [40, 33]), Tensor(zeros: [40]))
            var (dw2, db2): (Tensor?, Tensor?) = (Tensor(zeros: [40, 33]), Tensor(zeros: [40]))
            let dx1 = cpu.linearBackward(dOutput: dy, input: x, weight: w.converted(to: dtype), weightGradient: &dw1,
                                         biasGradient: &db1, needInputGradient: true)
            let dx2 = reference.linearBackward(dOutput: dy, input: x, weight: w.converted(to: dtype), weightGradient: &dw2,
                                               biasGradient: &db2, needInputGradient: true)
            for (a, b, what) in [(dx1, dx2, "dx"), (dw1, dw2, "dW"), (db1, db2, "db")] {
                if let failure = closenessFailure(a?.floats() ?? [], b?.floats() ?? [], tolerance: 1e-5, what: "linear \(what) \(dtype)") { XCTFail(failure) }
            }
        }
        let shape = AttentionShape(batch: 1, queryLength: 6, keyLength: 6, heads: 3, kvHeads: 1, headDim: 8)
        let q = Tensor.random([6, 24], seed: 23), k = Tensor.random([6, 8], seed: 24), v = Tensor.random([6, 8], seed: 25)
        let dO = Tensor.random([6, 24], seed: 26)
        let forward = cpu.attention(query: q, key: k, value: v, shape: shape, segments: nil, keepLogSumExp: true)
        guard let lse = forward.logSumExp else { return XCTFail("no log-sum-exp") }
        let fast = cpu.attentionBackward(dOutput: dO, query: q, key: k, value: v, output: forward.output, logSumExp: lse,
                                         shape: shape, segments: nil)
        let slow = reference.attentionBackward(dOutput: dO, query: q, key: k, value: v, output: forward.output, logSumExp: lse,
                                               shape: shape, segments: nil)
        for (a, b, what) in [(fast.query, slow.query, "dq"), (fast.key, slow.key, "dk"), (fast.value, slow.value, "dv")] {
            if let failure = closenessFailure(a.floats(), b.floats(), tolerance: 1e-5, what: "attention \(what)") { XCTFail(failure) }
        }
        let xs = Tensor.random([5, 12], seed: 27), ws = Tensor.random([12], seed: 28), dys = Tensor.random([5, 12], seed: 29)
        let rstd = cpu.rmsNorm(xs, weight: ws, eps: 1e-6).inverseRMS
        var dw1: Tensor? = Tensor(zeros: [12]), dw2: Tensor? = Tensor(zeros: [12])
        let a = cpu.rmsNormBackward(dOutput: dys, input: xs, weight: ws, inverseRMS: rstd, adding: nil, weightGradient: &dw1)
        let b = reference.rmsNormBackward(dOutput: dys, input: xs, weight: ws, inverseRMS: rstd, adding: nil, weightGradient: &dw2)
        XCTAssertNil(closenessFailure(a.floats(), b.floats(), tolerance: 1e-5, what: "rmsnorm dx"))
        XCTAssertNil(closenessFailure(dw1?.floats() ?? [], dw2?.floats() ?? [], tolerance: 1e-5, what: "rmsnorm dw"))
        let angles = cpu.rotaryAngles(positions: [1, 2, 3, 4, 5], inverseFrequencies: [1, 0.1, 0.01])
        let r = Tensor.random([5, 12], seed: 30)
        XCTAssertNil(closenessFailure(cpu.applyRotaryBackward(r, heads: 2, angles: angles).floats(),
                                      reference.applyRotaryBackward(r, heads: 2, angles: angles).floats(), tolerance: 1e-6, what: "rope"))
        let logits = Tensor.random([3, 50], seed: 31, scale: 4)
        XCTAssertNil(closenessFailure(cpu.crossEntropyBackward(logits: logits, targets: [1, -100, 49], dLoss: [0.5, 0.5, 2]).floats(),
                                      reference.crossEntropyBackward(logits: logits, targets: [1, -100, 49], dLoss: [0.5, 0.5, 2]).floats(),
                                      tolerance: 1e-6, what: "cross-entropy"))
        let g = Tensor.random([30], seed: 32, scale: 3), up = Tensor.random([30], seed: 33), d = Tensor.random([30], seed: 34)
        let s1 = cpu.swigluBackward(dOutput: d, gate: g, up: up), s2 = reference.swigluBackward(dOutput: d, gate: g, up: up)
        XCTAssertNil(closenessFailure(s1.gate.floats(), s2.gate.floats(), tolerance: 1e-6, what: "swiglu dgate"))
        XCTAssertNil(closenessFailure(s1.up.floats(), s2.up.floats(), tolerance: 1e-6, what: "swiglu dup"))
    }
}
