// bf16 matrix products (`MatmulPrecision.bf16`): activations rounded to bf16, weights stored or rounded to bf16,
// products accumulated in f32 — torch's bf16 matmul. On Linux they run on oneDNN's matmul primitive, which uses
// the CPU's bf16 dot-product instructions (AVX512-BF16, AMX) at about twice f32 SGEMM's rate; elsewhere, or if
// oneDNN refuses a shape, the same rounded operands go through f32 SGEMM (same result up to summation order).
// Legend: M rows, K input features, N output features; weights are stored [N, K] (the Hugging Face layout).
#if canImport(CDNNL)
import CDNNL
#endif
import TailorTensor

/// The two products a linear layer needs from a bf16 weight `W[N, K]`.
enum BF16Product {
    /// `y[M, N] = x[M, K] · Wᵀ` (forward).
    case timesTransposedWeight
    /// `dx[M, K] = dy[M, N] · W` (input gradient).
    case timesWeight
}

enum BF16Matmul {
    /// `out = input · Wᵀ` or `input · W` for f32 `input` rows, in bf16 with f32 accumulation.
    static func multiply(_ input: Tensor, weight: Tensor, _ product: BF16Product) -> Tensor {
        let n = weight.shape[0], k = weight.count / max(n, 1)
        let (inner, outer) = product == .timesTransposedWeight ? (k, n) : (n, k)
        let m = input.count / max(inner, 1)
        precondition(input.count == m * inner, "bf16 linear: input \(input.shape) does not match weight \(weight.shape)")
        let roundedInput = roundedToBF16(input)
        let roundedWeight = weight.dtype == .bf16 ? weight : roundedToBF16(weight)
        var out = Tensor(uninitialized: [m, outer])
        guard m > 0, outer > 0 else { return out }
        roundedInput.withUnsafeRawBytes { a in
            roundedWeight.withUnsafeRawBytes { w in
                out.withUnsafeMutableFloats { c in
                    let aBits = a.bindMemory(to: UInt16.self).baseAddress!
                    let wBits = w.bindMemory(to: UInt16.self).baseAddress!
                    // Row blocks of the output, one per worker, each a single-threaded product.
                    Parallel.forEachChunk(m, costPerItem: 2 * inner * outer) { rows in
                        let a = aBits + rows.lowerBound * inner, c = c.baseAddress! + rows.lowerBound * outer
                        #if canImport(CDNNL)
                        if OneDNN.matmul(m: rows.count, k: inner, n: outer, a: a, weight: wBits, product, c: c) { return }
                        #endif
                        emulated(m: rows.count, k: inner, n: outer, a: a, weight: wBits, product, c: c)
                    }
                }
            }
        }
        return out
    }

    /// The operands widened back to f32 and multiplied by SGEMM: the fallback and the portable path.
    static func emulated(m: Int, k: Int, n: Int, a: UnsafePointer<UInt16>, weight: UnsafePointer<UInt16>,
                         _ product: BF16Product, c: UnsafeMutablePointer<Float>) {
        let a32 = UnsafeMutablePointer<Float>.allocate(capacity: m * k), w32 = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        defer { a32.deallocate(); w32.deallocate() }
        for i in 0..<(m * k) { a32[i] = HalfConversion.float(fromBF16: a[i]) }
        for i in 0..<(k * n) { w32[i] = HalfConversion.float(fromBF16: weight[i]) }
        // Wᵀ: W is [N, K] (ldb K, transposed); W: W is [K', N'] = [N, K] read as rows of length n.
        GEMM.sgemmSerial(transposeA: false, transposeB: product == .timesTransposedWeight, m: m, n: n, k: k, a: a32, lda: k,
                   b: w32, ldb: product == .timesTransposedWeight ? k : n, c: c, ldc: n)
    }

    /// A bf16 copy of an f32 (or f16) tensor, rounded to nearest even, converted on all cores.
    static func roundedToBF16(_ x: Tensor) -> Tensor {
        if x.dtype == .bf16 { return x }
        let source = x.dtype == .f32 ? x : x.converted(to: .f32)
        var out = Tensor(uninitialized: x.shape, dtype: .bf16)
        source.withUnsafeFloats { src in
            out.withUnsafeMutableRawBytes { raw in
                let dst = raw.bindMemory(to: UInt16.self)
                Parallel.forEachChunk(src.count, costPerItem: 2) { range in
                    for i in range { dst[i] = HalfConversion.bf16(from: src[i]) }
                }
            }
        }
        return out
    }
}

#if canImport(CDNNL)
/// oneDNN's matmul primitive on the CPU engine. Primitives are cached by shape inside oneDNN (its primitive cache);
/// a failed call returns false and the caller falls back to the emulated product.
enum OneDNN {
    /// One CPU engine for the process (oneDNN engines are thread-safe).
    nonisolated(unsafe) static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// One single-threaded product on the calling thread.
    static func matmul(m: Int, k: Int, n: Int, a: UnsafePointer<UInt16>, weight: UnsafePointer<UInt16>,
                       _ product: BF16Product, c: UnsafeMutablePointer<Float>) -> Bool {
        guard let engine else { return false }
        omp_set_num_threads(1)   // per calling thread (an OpenMP ICV of this thread)
        var source = dnnl_memory_desc_t(), weights = dnnl_memory_desc_t(), destination = dnnl_memory_desc_t()
        var sourceDims: [Int64] = [Int64(m), Int64(k)], weightDims: [Int64] = [Int64(k), Int64(n)]
        var destinationDims: [Int64] = [Int64(m), Int64(n)]
        // The weight is stored [N, K] row-major. As the [K', N'] operand of `x·Wᵀ` (K' = K) that is column-major
        // ("ba"); as the operand of `dy·W` (K' = N) it is row-major ("ab").
        let weightTag = product == .timesTransposedWeight ? dnnl_ba : dnnl_ab
        guard dnnl_memory_desc_init_by_tag(&source, 2, &sourceDims, dnnl_bf16, dnnl_ab) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&weights, 2, &weightDims, dnnl_bf16, weightTag) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&destination, 2, &destinationDims, dnnl_f32, dnnl_ab) == dnnl_success
        else { return false }
        var descriptor = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&descriptor, &source, &weights, nil, &destination) == dnnl_success else { return false }
        var primitiveDescriptor: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&primitiveDescriptor, &descriptor, nil, engine, nil) == dnnl_success
        else { return false }
        defer { dnnl_primitive_desc_destroy(primitiveDescriptor) }
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, primitiveDescriptor) == dnnl_success else { return false }
        defer { dnnl_primitive_destroy(primitive) }

        var sourceMemory: dnnl_memory_t?, weightMemory: dnnl_memory_t?, destinationMemory: dnnl_memory_t?
        defer {
            dnnl_memory_destroy(sourceMemory)
            dnnl_memory_destroy(weightMemory)
            dnnl_memory_destroy(destinationMemory)
        }
        guard dnnl_memory_create(&sourceMemory, &source, engine, UnsafeMutableRawPointer(mutating: a)) == dnnl_success,
              dnnl_memory_create(&weightMemory, &weights, engine, UnsafeMutableRawPointer(mutating: weight)) == dnnl_success,
              dnnl_memory_create(&destinationMemory, &destination, engine, UnsafeMutableRawPointer(c)) == dnnl_success
        else { return false }
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success else { return false }
        defer { dnnl_stream_destroy(stream) }
        var arguments = [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC_0, memory: sourceMemory),
            dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS_0, memory: weightMemory),
            dnnl_exec_arg_t(arg: DNNL_ARG_DST_0, memory: destinationMemory),
        ]
        guard dnnl_primitive_execute(primitive, stream, Int32(arguments.count), &arguments) == dnnl_success,
              dnnl_stream_wait(stream) == dnnl_success
        else { return false }
        return true
    }
}
#endif
