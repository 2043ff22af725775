// The blocked attention kernel (forward and backward) against the f64 reference on shapes that exercise the blocks:
// lengths that are not multiples of the 32-query and 64-key blocks, grouped and ungrouped heads, padding on either
// side, packed samples, sliding windows, a KV cache with spare capacity, and decode shapes (a few queries against a
// cache: the decode kernel, whose 64-key chunks are merged); every case in the instruction set this CPU runs and in
// the portable body, with f32 keys and values and (forward) with an f16 KV cache.
import CTailorKernels
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class FlashAttentionTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

    struct Case {
        var name: String
        var shape: AttentionShape
        var segments: KeySegments?
    }

    static func segments(batch: Int, capacity: Int, _ rule: (Int, Int) -> Int32) -> KeySegments {
        (0..<(batch * capacity)).map { rule($0 / capacity, $0 % capacity) }
    }

    static let cases: [Case] = [
        Case(name: "odd length, GQA 6/2", shape: AttentionShape(batch: 2, queryLength: 77, keyLength: 77, heads: 6, kvHeads: 2, headDim: 64)),
        Case(name: "H = G, head size 20", shape: AttentionShape(batch: 1, queryLength: 70, keyLength: 70, heads: 3, kvHeads: 3, headDim: 20)),
        Case(name: "padding right and left", shape: AttentionShape(batch: 2, queryLength: 71, keyLength: 71, heads: 6, kvHeads: 2, headDim: 24),
             // row 0: 50 tokens then padding; row 1: 5 padding tokens first (their queries see nothing), then 66 tokens.
             segments: segments(batch: 2, capacity: 71) { b, j in b == 0 ? (j < 50 ? 0 : -1) : (j < 5 ? -1 : 0) }),
        Case(name: "packed samples", shape: AttentionShape(batch: 2, queryLength: 150, keyLength: 150, heads: 4, kvHeads: 2, headDim: 16),
             segments: segments(batch: 2, capacity: 150) { b, j in
                 b == 0 ? (j < 30 ? 0 : j < 100 ? 1 : j < 140 ? 2 : -1) : (j < 70 ? 5 : 6)
             }),
        Case(name: "sliding window 17", shape: AttentionShape(batch: 1, queryLength: 150, keyLength: 150, heads: 6, kvHeads: 2,
                                                              headDim: 16, slidingWindow: 17)),
        Case(name: "sliding window 70 with packing", shape: AttentionShape(batch: 1, queryLength: 140, keyLength: 140, heads: 2, kvHeads: 1,
                                                                           headDim: 8, slidingWindow: 70),
             segments: segments(batch: 1, capacity: 140) { _, j in j < 90 ? 0 : 1 }),
        Case(name: "KV cache with spare capacity", shape: AttentionShape(batch: 2, queryLength: 9, keyLength: 79, keyCapacity: 100, heads: 6,
                                                                         kvHeads: 2, headDim: 32, queryOffset: 70)),
        Case(name: "KV cache with segments", shape: AttentionShape(batch: 2, queryLength: 40, keyLength: 110, keyCapacity: 130, heads: 4,
                                                                   kvHeads: 2, headDim: 16, queryOffset: 70),
             segments: segments(batch: 2, capacity: 130) { b, j in b == 0 ? (j < 3 ? -1 : 0) : (j < 60 ? 0 : 1) }),
        Case(name: "decode one token", shape: AttentionShape(batch: 2, queryLength: 1, keyLength: 131, keyCapacity: 160, heads: 9,
                                                             kvHeads: 3, headDim: 64, queryOffset: 130)),
        // Decode-like shapes (a few positions against a cache): odd head sizes, windows, padding and packed samples.
        Case(name: "decode, head size 20, padding", shape: AttentionShape(batch: 2, queryLength: 1, keyLength: 90, keyCapacity: 96,
                                                                          heads: 6, kvHeads: 2, headDim: 20, queryOffset: 89),
             segments: segments(batch: 2, capacity: 96) { b, j in b == 0 ? (j < 7 ? -1 : 0) : (j < 40 ? 3 : j < 90 ? 4 : -1) }),
        Case(name: "decode three tokens, window 9", shape: AttentionShape(batch: 1, queryLength: 3, keyLength: 70, keyCapacity: 80,
                                                                          heads: 8, kvHeads: 2, headDim: 12, queryOffset: 67,
                                                                          slidingWindow: 9)),
        Case(name: "decode four tokens, first keys", shape: AttentionShape(batch: 1, queryLength: 4, keyLength: 4, heads: 2,
                                                                           kvHeads: 1, headDim: 8)),
        Case(name: "decode, a query that sees nothing", shape: AttentionShape(batch: 2, queryLength: 2, keyLength: 33, keyCapacity: 40,
                                                                              heads: 4, kvHeads: 4, headDim: 16, queryOffset: 31),
             segments: segments(batch: 2, capacity: 40) { b, j in b == 0 ? (j < 31 ? 1 : j == 31 ? 2 : 1) : (j < 32 ? -1 : 0) }),
        // Long caches: the decode kernel's chunks of 64 keys merged (first and last chunks partial, hidden ones).
        Case(name: "decode, 300 keys, soft-cap", shape: AttentionShape(batch: 1, queryLength: 1, keyLength: 300, keyCapacity: 320,
                                                                       heads: 9, kvHeads: 3, headDim: 64, queryOffset: 299,
                                                                       scale: 0.1, logitSoftCap: 5)),
        Case(name: "decode two tokens, 200 keys, window 100, packed", shape: AttentionShape(batch: 2, queryLength: 2, keyLength: 200,
                                                                                            heads: 8, kvHeads: 2, headDim: 36,
                                                                                            queryOffset: 198, slidingWindow: 100),
             segments: segments(batch: 2, capacity: 200) { b, j in b == 0 ? (j < 150 ? 0 : 1) : (j < 10 ? -1 : 2) }),
    ]

    /// Inputs of a case; key and value rows past `keyLength` hold NaN, which no kernel may read.
    static func inputs(_ s: AttentionShape, seed: UInt64) -> (q: Tensor, k: Tensor, v: Tensor, dO: Tensor) {
        let q = Tensor.random([s.batch * s.queryLength, s.heads * s.headDim], seed: seed, scale: 2)
        var k = Tensor.random([s.batch * s.keyCapacity, s.kvHeads * s.headDim], seed: seed + 1, scale: 2)
        var v = Tensor.random([s.batch * s.keyCapacity, s.kvHeads * s.headDim], seed: seed + 2)
        let width = s.kvHeads * s.headDim
        for t in [0, 1] {
            func poison(_ p: UnsafeMutableBufferPointer<Float>) {
                for b in 0..<s.batch { for j in s.keyLength..<s.keyCapacity { for e in 0..<width { p[(b * s.keyCapacity + j) * width + e] = .nan } } }
            }
            if t == 0 { k.withUnsafeMutableFloats(poison) } else { v.withUnsafeMutableFloats(poison) }
        }
        let dO = Tensor.random([s.batch * s.queryLength, s.heads * s.headDim], seed: seed + 3)
        return (q, k, v, dO)
    }

    /// Log-sum-exps agree: -inf (a row that sees no key) in the same places, the rest within `tolerance`.
    func assertLogSumExpClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        let a = actual.floats(), e = expected.floats()
        XCTAssertEqual(a.map { $0 == -.infinity }, e.map { $0 == -.infinity }, "\(what): rows that see nothing")
        let finite = a.indices.filter { e[$0].isFinite }
        XCTAssertNil(closenessFailure(finite.map { a[$0] }, finite.map { e[$0] }, tolerance: 1e-5, what: what))
    }

    func checkAll(portable: Bool) {
        tk_cap_inference_kernel(portable ? StreamingKernelBody.scalar.rawValue : StreamingKernelBody.avx512.rawValue)
        defer { tk_cap_inference_kernel(StreamingKernelBody.avx512.rawValue) }
        let variant = portable ? "portable" : "isa \(tk_attention_instruction_set())"
        for (n, c) in Self.cases.enumerated() {
            let s = c.shape, what = "\(c.name) (\(variant))"
            let (q, k, v, dO) = Self.inputs(s, seed: 100 + UInt64(n) * 10)
            let fast = cpu.attention(query: q, key: k, value: v, shape: s, segments: c.segments, keepLogSumExp: true)
            let slow = reference.attention(query: q, key: k, value: v, shape: s, segments: c.segments, keepLogSumExp: true)
            // f32 sums of at most a few hundred products against f64: a few ulps of the largest term.
            assertClose(fast.output, slow.output, tolerance: 2e-5, "\(what) output")
            guard let lse = fast.logSumExp, let lseReference = slow.logSumExp else { XCTFail("\(what): no log-sum-exp"); continue }
            assertLogSumExpClose(lse, lseReference, "\(what) log-sum-exp")
            // An f16 KV cache: the keys and values rounded to f16, read as f16 by the kernels, as f32 by the reference.
            let (k16, v16) = (k.converted(to: .f16), v.converted(to: .f16))
            let half = cpu.attention(query: q, key: k16, value: v16, shape: s, segments: c.segments, keepLogSumExp: true)
            let halfReference = reference.attention(query: q, key: k16.converted(to: .f32), value: v16.converted(to: .f32), shape: s,
                                                    segments: c.segments, keepLogSumExp: true)
            assertClose(half.output, halfReference.output, tolerance: 2e-5, "\(what) f16 keys and values")
            if let a = half.logSumExp, let b = halfReference.logSumExp { assertLogSumExpClose(a, b, "\(what) f16 log-sum-exp") }
            let without = cpu.attention(query: q, key: k, value: v, shape: s, segments: c.segments, keepLogSumExp: false)
            XCTAssertNil(without.logSumExp)
            XCTAssertEqual(without.output.floats(), fast.output.floats(), "\(what): output independent of keeping the log-sum-exp")

            let grads = cpu.attentionBackward(dOutput: dO, query: q, key: k, value: v, output: fast.output, logSumExp: lse,
                                              shape: s, segments: c.segments)
            let expected = reference.attentionBackward(dOutput: dO, query: q, key: k, value: v, output: slow.output,
                                                       logSumExp: lseReference, shape: s, segments: c.segments)
            // Gradients sum P·(dP - D) terms over up to 150 keys and queries: relative 5e-5 of the largest.
            for (a, b, name) in [(grads.query, expected.query, "dq"), (grads.key, expected.key, "dk"), (grads.value, expected.value, "dv")] {
                assertClose(a, b, tolerance: 5e-5, "\(what) \(name)")
                XCTAssertFalse(a.floats().contains { $0.isNaN }, "\(what) \(name) has NaN")
            }
        }
    }

    func testBlockedKernelMatchesReference() { checkAll(portable: false) }

    func testPortableBodyMatchesReference() { checkAll(portable: true) }

    /// A query whose keys are all hidden gets output 0 and log-sum-exp -inf, and passes no gradient.
    func testRowThatSeesNothing() {
        let s = AttentionShape(batch: 1, queryLength: 3, keyLength: 3, heads: 2, kvHeads: 1, headDim: 8)
        let segments: KeySegments = [-1, 0, 0]
        let (q, k, v, dO) = Self.inputs(s, seed: 7)
        let out = cpu.attention(query: q, key: k, value: v, shape: s, segments: segments, keepLogSumExp: true)
        XCTAssertEqual(Array(out.output.floats()[0..<16]), [Float](repeating: 0, count: 16))
        XCTAssertEqual(Array(out.logSumExp?.floats()[0..<2] ?? []), [-.infinity, -.infinity])
        let grads = cpu.attentionBackward(dOutput: dO, query: q, key: k, value: v, output: out.output,
                                          logSumExp: out.logSumExp ?? Tensor(zeros: [6]), shape: s, segments: segments)
        XCTAssertEqual(Array(grads.query.floats()[0..<16]), [Float](repeating: 0, count: 16))
        XCTAssertEqual(Array(grads.key.floats()[0..<8]), [Float](repeating: 0, count: 8), "the padding key gets no gradient")
    }
}
