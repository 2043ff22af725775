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
    bf16StreamingProducts(x, weights: [weight], biases: [bias])[0]
}

/// `bf16StreamingProduct` of one input with several bf16 weights of the same width (q/k/v, gate/up): the input
/// rounded once and the rows of every weight split over the cores as one job, so a decode step pays one hand-off
/// to the workers (and one wait for them) for the group instead of one per weight.
func bf16StreamingProducts(_ x: Tensor, weights: [Tensor], biases: [Tensor?]) -> [Tensor] {
    let k = weights[0].shape[1], m = x.count / k
    precondition(weights.allSatisfy { $0.dtype == .bf16 && $0.rank == 2 && $0.shape[1] == k } && biases.count == weights.count,
                 "bf16 streaming products: weights \(weights.map(\.shape))")
    precondition(x.count == m * k, "bf16 streaming product: input \(x.shape) does not match weight \(weights[0].shape)")
    let rounded = UnsafeMutablePointer<UInt16>.allocate(capacity: m * k)
    defer { rounded.deallocate() }
    x.withUnsafeFloats { tk_round_bf16($0.baseAddress!, rounded, m * k) }
    let xb = UncheckedSendable(UnsafePointer(rounded))
    // The weights' storages outlive the call (`weights` holds them), so their addresses stay valid inside the job.
    let sources = weights.map { w in w.withUnsafeRawBytes { UncheckedSendable($0.bindMemory(to: UInt16.self).baseAddress!) } }
    return streamingOutputs(rows: m, widths: weights.map { $0.shape[0] }, bytesPerRow: 2 * k, biases: biases) { i, rows, out, n in
        tk_gemm_bf16(xb.value, m, sources[i].value, k, rows.lowerBound, rows.upperBound, out, n)
    }
}

/// `y[M, N] = x[M, K] · Wᵀ` for a q8_0 `W`: each input row quantized to blocks of 32 int8 like the weight, exact
/// integer block sums scaled by both scales (llama.cpp's q8_0 · q8_0 product). Any M. Without AVX-512 VNNI, more
/// than `streamingProductMaxRows` rows (prefill) multiply the decoded input and weight with SGEMM instead: the same
/// products, summed in f32 in another order, at SGEMM's rate rather than vpmaddubsw's.
func int8Product(_ x: Tensor, weight: Int8BlockMatrix, bias: Tensor?) -> Tensor {
    int8Products(x, weights: [weight], biases: [bias])[0]
}

/// `int8Product` of one input with several q8_0 weights of the same width: the input quantized once, and (streaming)
/// the rows of every weight split over the cores as one job.
func int8Products(_ x: Tensor, weights: [Int8BlockMatrix], biases: [Tensor?]) -> [Tensor] {
    let k = weights[0].shape[1], m = x.count / k, blocks = k / Int8BlockMatrix.blockSize
    precondition(weights.allSatisfy { $0.shape[1] == k } && biases.count == weights.count,
                 "int8 products: weights \(weights.map(\.shape))")
    precondition(x.count == m * k, "int8 product: input \(x.shape) does not match weight \(weights[0].shape)")
    if m > streamingProductMaxRows && streamingKernelBody < .avx512 {
        let decoded = int8RoundTrip(x)
        return zip(weights, biases).map { packedLinearForward(decoded, weight: $0, bias: $1) }
    }
    let xq = UnsafeMutablePointer<Int8>.allocate(capacity: m * k)
    let xd = UnsafeMutablePointer<Float>.allocate(capacity: m * blocks)
    defer { xq.deallocate(); xd.deallocate() }
    x.withUnsafeFloats { tk_quantize_q8($0.baseAddress!, m, k, xq, xd) }
    let (xqs, xds) = (UncheckedSendable(UnsafePointer(xq)), UncheckedSendable(UnsafePointer(xd)))
    // The weights' arrays outlive the call (`weights` holds them), so their addresses stay valid inside the job.
    let sources = weights.map { w in
        w.quants.withUnsafeBufferPointer { q in w.scales.withUnsafeBufferPointer { s in UncheckedSendable((q.baseAddress!, s.baseAddress!)) } }
    }
    return streamingOutputs(rows: m, widths: weights.map { $0.shape[0] }, bytesPerRow: k * max(1, m / 4), biases: biases) { i, rows, out, n in
        tk_gemm_q8(xqs.value, xds.value, m, sources[i].value.0, sources[i].value.1, k, rows.lowerBound, rows.upperBound, out, n)
    }
}

/// The outputs `[M, Nᵢ]` of streaming products with weights of `widths[i]` rows each, computed by `product(i, rows,
/// y, Nᵢ)` (which writes rows `rows` of weight i into `y`, row stride Nᵢ) over 4-row tiles of every weight split over
/// the cores as one job, each biased by `biases[i]`.
private func streamingOutputs(rows m: Int, widths: [Int], bytesPerRow: Int, biases: [Tensor?],
                              _ product: (Int, Range<Int>, UnsafeMutablePointer<Float>, Int) -> Void) -> [Tensor] {
    let outputs = widths.map { Tensor(uninitialized: [m, $0]) }
    // Fresh tensors own their bytes, which stay put while `outputs` holds them.
    let bases = outputs.map { UncheckedSendable($0.storage.pointer.assumingMemoryBound(to: Float.self)) }
    let tileStarts = widths.reduce(into: [0]) { $0.append($0[$0.count - 1] + ($1 + 3) / 4) }
    Parallel.forEachChunk(tileStarts[widths.count], costPerItem: 4 * bytesPerRow) { tiles in
        for i in widths.indices where tiles.lowerBound < tileStarts[i + 1] && tiles.upperBound > tileStarts[i] {
            let first = max(tiles.lowerBound, tileStarts[i]) - tileStarts[i], last = min(tiles.upperBound, tileStarts[i + 1]) - tileStarts[i]
            product(i, (4 * first)..<min(widths[i], 4 * last), bases[i].value, widths[i])
        }
    }
    for (i, bias) in biases.enumerated() {
        guard let bias else { continue }
        let (y, n) = (bases[i].value, widths[i])
        bias.withUnsafeFloats { b in for r in 0..<m { for j in 0..<n { y[r * n + j] += b[j] } } }
    }
    return outputs
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
