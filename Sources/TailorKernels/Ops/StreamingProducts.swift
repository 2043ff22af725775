// Products that stream their weights once per call (decode and batched decode: few input rows), on the vector
// kernels of CTailorKernels, weight rows split over the cores. Legend: M input rows, K inputs, N outputs.
import CTailorKernels
import TailorTensor

/// Most input rows for which bf16 products stream the weight through `bf16StreamingProduct`; larger ones (prefill)
/// use the bf16 product training uses.
let streamingProductMaxRows = 16

/// `y[M, N] = bf16(x)[M, K] · W[N, K]ᵀ` for a bf16 `W`: the inputs rounded to bf16 (nearest even), products summed
/// in f32 — the arithmetic of `MatmulPrecision.bf16`.
func bf16StreamingProduct(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.dtype == .bf16 && weight.rank == 2, "bf16 streaming product: weight \(weight)")
    let n = weight.shape[0], k = weight.shape[1], m = x.count / k
    precondition(x.count == m * k, "bf16 streaming product: input \(x.shape) does not match weight \(weight.shape)")
    let rounded = UnsafeMutablePointer<UInt16>.allocate(capacity: m * k)
    defer { rounded.deallocate() }
    x.withUnsafeFloats { tk_round_bf16($0.baseAddress!, rounded, m * k) }
    var y = Tensor(uninitialized: [m, n])
    y.withUnsafeMutableFloats { out in
        weight.withUnsafeRawBytes { raw in
            let w = UncheckedSendable(raw.bindMemory(to: UInt16.self).baseAddress!)
            let (xb, o) = (UncheckedSendable(UnsafePointer(rounded)), UncheckedSendable(out.baseAddress!))
            forEachRowRange(n, bytesPerRow: 2 * k) { rows in
                tk_gemm_bf16(xb.value, m, w.value, k, rows.lowerBound, rows.upperBound, o.value, n)
            }
        }
        addBias(bias, to: out, rows: m)
    }
    return y
}

/// `y[M, N] = x[M, K] · Wᵀ` for a q8_0 `W`: each input row quantized to blocks of 32 int8 like the weight, exact
/// integer block sums scaled by both scales (llama.cpp's q8_0 · q8_0 product). Any M. Without AVX-512 VNNI, more
/// than `streamingProductMaxRows` rows (prefill) multiply the decoded input and weight with SGEMM instead: the same
/// products, summed in f32 in another order, at SGEMM's rate rather than vpmaddubsw's.
func int8Product(_ x: Tensor, weight: Int8BlockMatrix, bias: Tensor?) -> Tensor {
    let n = weight.shape[0], k = weight.shape[1], m = x.count / k, blocks = k / Int8BlockMatrix.blockSize
    precondition(x.count == m * k, "int8 product: input \(x.shape) does not match weight \(weight.shape)")
    if m > streamingProductMaxRows && streamingKernelBody < .avx512 {
        return packedLinearForward(int8RoundTrip(x), weight: weight, bias: bias)
    }
    let xq = UnsafeMutablePointer<Int8>.allocate(capacity: m * k)
    let xd = UnsafeMutablePointer<Float>.allocate(capacity: m * blocks)
    defer { xq.deallocate(); xd.deallocate() }
    x.withUnsafeFloats { tk_quantize_q8($0.baseAddress!, m, k, xq, xd) }
    var y = Tensor(uninitialized: [m, n])
    y.withUnsafeMutableFloats { out in
        weight.quants.withUnsafeBufferPointer { q in
            weight.scales.withUnsafeBufferPointer { s in
                let (wq, wd) = (UncheckedSendable(q.baseAddress!), UncheckedSendable(s.baseAddress!))
                let (xqs, xds) = (UncheckedSendable(UnsafePointer(xq)), UncheckedSendable(UnsafePointer(xd)))
                let o = UncheckedSendable(out.baseAddress!)
                forEachRowRange(n, bytesPerRow: k * max(1, m / 4)) { rows in
                    tk_gemm_q8(xqs.value, xds.value, m, wq.value, wd.value, k, rows.lowerBound, rows.upperBound, o.value, n)
                }
            }
        }
        addBias(bias, to: out, rows: m)
    }
    return y
}

/// Splits `n` weight rows over the workers in multiples of 4 (the kernels' row tile).
private func forEachRowRange(_ n: Int, bytesPerRow: Int, _ body: (Range<Int>) -> Void) {
    let tiles = (n + 3) / 4
    Parallel.forEachChunk(tiles, costPerItem: 4 * bytesPerRow) { t in
        body((4 * t.lowerBound)..<min(n, 4 * t.upperBound))
    }
}

private func addBias(_ bias: Tensor?, to out: UnsafeMutableBufferPointer<Float>, rows m: Int) {
    guard let bias else { return }
    let n = out.count / max(m, 1)
    bias.withUnsafeFloats { b in for i in 0..<m { for j in 0..<n { out[i * n + j] += b[j] } } }
}

/// The bodies of the streaming products' vector kernels (CTailorKernels), slowest first.
public enum StreamingKernelBody: Int32, CaseIterable, Comparable, Sendable {
    /// Portable C.
    case scalar
    /// AVX2 + FMA + F16C: bf16 widened to f32 in registers, q8_0 by vpmaddubsw (llama.cpp's AVX2 dot product).
    case avx2
    /// AVX-512 with BF16 and VNNI dot products.
    case avx512

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// The body the streaming products run on this CPU: the best one it has.
public var streamingKernelBody: StreamingKernelBody { StreamingKernelBody(rawValue: tk_inference_kernel()) ?? .scalar }

/// `x` quantized to q8_0 blocks and decoded again: the input the int8 product multiplies (the SGEMM path's input,
/// tests' oracle input).
func int8RoundTrip(_ x: Tensor) -> Tensor {
    let k = x.shape[x.rank - 1], m = x.count / k, blocks = k / Int8BlockMatrix.blockSize
    var q = [Int8](repeating: 0, count: m * k), d = [Float](repeating: 0, count: m * blocks)
    x.withUnsafeFloats { tk_quantize_q8($0.baseAddress!, m, k, &q, &d) }
    var out = Tensor(uninitialized: x.shape)
    out.withUnsafeMutableFloats { o in
        for i in 0..<(m * k) { o[i] = Float(q[i]) * d[i / Int8BlockMatrix.blockSize] }
    }
    return out
}

/// Runs `body` with the kernels' bodies capped at `cap` (tests compare each body the CPU has with the scalar one).
func withStreamingKernels<R>(cappedAt cap: StreamingKernelBody, _ body: () throws -> R) rethrows -> R {
    tk_cap_inference_kernel(cap.rawValue)
    defer { tk_cap_inference_kernel(StreamingKernelBody.avx512.rawValue) }
    return try body()
}
