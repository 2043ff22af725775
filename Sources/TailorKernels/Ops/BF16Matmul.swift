// bf16 matrix products (`MatmulPrecision.bf16`): operands rounded to bf16 (nearest even), products accumulated and
// returned in f32. On Linux they run on oneDNN's matmul primitive, which uses the CPU's bf16 dot-product
// instructions (AVX512-BF16, AMX) at about twice f32 SGEMM's rate; elsewhere, or if oneDNN refuses a shape, the same
// rounded operands go through f32 SGEMM (same result up to summation order).
// Legend: M rows, K input features, N output features; weights are stored [N, K] (the Hugging Face layout).
#if canImport(CDNNL)
import CDNNL
#endif
import CTailorKernels
import Synchronization
import TailorTensor

/// The two products a linear layer needs from a bf16 weight `W[N, K]`.
enum BF16Product {
    /// `y[M, N] = x[M, K] · Wᵀ` (forward).
    case timesTransposedWeight
    /// `dx[M, K] = dy[M, N] · W` (input gradient).
    case timesWeight
}

/// A bf16 matrix operand in memory: element (i, j) sits at `base[i·rowStride + j·columnStride]`.
struct BF16Operand {
    var base: UnsafePointer<UInt16>
    var rows: Int
    var columns: Int
    var rowStride: Int
    var columnStride: Int

    /// Rows `range` of the operand.
    func rows(_ range: Range<Int>) -> BF16Operand {
        BF16Operand(base: base + range.lowerBound * rowStride, rows: range.count, columns: columns,
                    rowStride: rowStride, columnStride: columnStride)
    }

    /// Columns `range` of the operand.
    func columns(_ range: Range<Int>) -> BF16Operand {
        BF16Operand(base: base + range.lowerBound * columnStride, rows: rows, columns: range.count,
                    rowStride: rowStride, columnStride: columnStride)
    }
}

enum BF16Matmul {
    /// `out = input · Wᵀ` or `input · W` for f32 `input` rows, in bf16 with f32 accumulation. A bf16 weight that
    /// `isReused` (a model's weight, not one decoded for this call) is packed once for `x · Wᵀ` and kept.
    static func multiply(_ input: Tensor, weight: Tensor, _ product: BF16Product, isReused: Bool = true) -> Tensor {
        let n = weight.shape[0], k = weight.count / max(n, 1)
        let (inner, outer) = product == .timesTransposedWeight ? (k, n) : (n, k)
        let m = input.count / max(inner, 1)
        precondition(input.count == m * inner, "bf16 linear: input \(input.shape) does not match weight \(weight.shape)")
        let roundedInput = roundedToBF16(input)
        var out = Tensor(uninitialized: [m, outer])
        if product == .timesTransposedWeight, isReused, let packed = packedTransposed(weight) {
            roundedInput.withUnsafeRawBytes { a in
                out.withUnsafeMutableFloats { c in
                    let left = BF16Operand(base: a.bindMemory(to: UInt16.self).baseAddress!, rows: m, columns: k,
                                           rowStride: k, columnStride: 1)
                    if multiply(left, packed: packed, into: c.baseAddress!) { return }
                    packed.failed = true
                }
            }
            if !packed.failed { return out }
        }
        let roundedWeight = roundedToBF16(weight)
        roundedInput.withUnsafeRawBytes { a in
            roundedWeight.withUnsafeRawBytes { w in
                out.withUnsafeMutableFloats { c in
                    let left = BF16Operand(base: a.bindMemory(to: UInt16.self).baseAddress!, rows: m, columns: inner,
                                           rowStride: inner, columnStride: 1)
                    // W[N, K] as the right operand: Wᵀ is K × N with strides (1, K); W itself is N × K, (K, 1).
                    let wBase = w.bindMemory(to: UInt16.self).baseAddress!
                    let right = product == .timesTransposedWeight
                        ? BF16Operand(base: wBase, rows: k, columns: n, rowStride: 1, columnStride: k)
                        : BF16Operand(base: wBase, rows: n, columns: k, rowStride: k, columnStride: 1)
                    multiply(left, right, into: c.baseAddress!, accumulate: false)
                }
            }
        }
        return out
    }

    /// `weightGradient[N, K] += dOutput[M, N]ᵀ · input[M, K]` with both factors rounded to bf16.
    static func accumulateWeightGradient(dOutput: Tensor, input: Tensor, into weightGradient: inout Tensor) {
        let n = weightGradient.shape[0], k = weightGradient.count / max(n, 1), m = input.count / max(k, 1)
        precondition(dOutput.count == m * n, "bf16 weight gradient: dOutput \(dOutput.shape) does not match \(weightGradient.shape)")
        let dy = roundedToBF16(dOutput), x = roundedToBF16(input)
        dy.withUnsafeRawBytes { dyRaw in
            x.withUnsafeRawBytes { xRaw in
                weightGradient.withUnsafeMutableFloats { dw in
                    // dyᵀ is N × M with strides (1, N); x is M × K with strides (K, 1).
                    let left = BF16Operand(base: dyRaw.bindMemory(to: UInt16.self).baseAddress!, rows: n, columns: m,
                                           rowStride: 1, columnStride: n)
                    let right = BF16Operand(base: xRaw.bindMemory(to: UInt16.self).baseAddress!, rows: m, columns: k,
                                            rowStride: k, columnStride: 1)
                    multiply(left, right, into: dw.baseAddress!, accumulate: true)
                }
            }
        }
    }

    /// `c[a.rows, b.columns] (+)= a · b`, c row-major and dense. Blocks of c go to the workers, each a
    /// single-threaded product: row blocks when there are enough rows, column blocks otherwise (decoding one token
    /// has a single row).
    static func multiply(_ a: BF16Operand, _ b: BF16Operand, into c: UnsafeMutablePointer<Float>, accumulate: Bool) {
        precondition(a.columns == b.rows, "bf16 product: \(a.rows)×\(a.columns) · \(b.rows)×\(b.columns)")
        guard a.rows > 0, b.columns > 0 else { return }
        let n = b.columns
        func run(_ a: BF16Operand, _ b: BF16Operand, _ c: UnsafeMutablePointer<Float>) {
            #if canImport(CDNNL)
            if OneDNN.matmul(a, b, into: c, ldc: n, accumulate: accumulate) { return }
            #endif
            emulated(a, b, into: c, ldc: n, accumulate: accumulate)
        }
        if a.rows >= 16 * Parallel.workerCount {
            Parallel.forEachChunk(a.rows, costPerItem: 2 * a.columns * n) { rows in
                run(a.rows(rows), b, c + rows.lowerBound * n)
            }
        } else {
            Parallel.forEachChunk(n, costPerItem: 2 * a.columns * a.rows) { columns in
                run(a, b.columns(columns), c + columns.lowerBound)
            }
        }
    }

    /// `c[a.rows, N] = a · Wᵀ` with W pre-packed; rows of c split over the workers. False when oneDNN failed (c is
    /// then to be recomputed by the plain path).
    static func multiply(_ a: BF16Operand, packed w: PackedBF16Weight, into c: UnsafeMutablePointer<Float>) -> Bool {
        #if canImport(CDNNL)
        guard a.rows > 0, w.n > 0 else { return true }
        let ok = Atomic<Bool>(true)
        Parallel.forEachChunk(a.rows, costPerItem: 2 * a.columns * w.n) { rows in
            if !OneDNN.matmul(a.rows(rows), packed: w, into: c + rows.lowerBound * w.n, ldc: w.n) {
                ok.store(false, ordering: .relaxed)
            }
        }
        return ok.load(ordering: .relaxed)
        #else
        return false
        #endif
    }

    /// The pre-packed copy of a bf16 weight W[N, K] for `x · Wᵀ`, made at first use and kept with the weight's bytes;
    /// nil for f32/f16 weights (rounded at each call) or where oneDNN offers no packed kernel.
    static func packedTransposed(_ weight: Tensor) -> PackedBF16Weight? {
        #if canImport(CDNNL)
        guard weight.dtype == .bf16, weight.rank == 2 else { return nil }
        let n = weight.shape[0], k = weight.shape[1]
        let key = PackedWeightKey(byteOffset: weight.byteOffset, n: n, k: k)
        let packed = weight.storage.derived(key) {
            weight.withUnsafeRawBytes { raw in
                OneDNN.packedTransposedWeight(raw.bindMemory(to: UInt16.self).baseAddress!, n: n, k: k)
                    ?? PackedBF16Weight.unavailable(n: n, k: k)
            }
        } as? PackedBF16Weight
        return packed?.failed == false ? packed : nil
        #else
        return nil
        #endif
    }

    /// Where in a storage a packed weight came from.
    struct PackedWeightKey: Hashable { var byteOffset: Int, n: Int, k: Int }

    /// The operands widened back to f32 and multiplied by SGEMM: the fallback and the portable path (CPUs without
    /// bf16 dot products, where oneDNN has no bf16 matmul kernel).
    static func emulated(_ a: BF16Operand, _ b: BF16Operand, into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let (m, k, n) = (a.rows, a.columns, b.columns)
        let a32 = widened(a), b32 = widened(b)
        defer { a32.values.deallocate(); b32.values.deallocate() }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        GEMM.sgemmSerial(transposeA: a32.transposed, transposeB: b32.transposed, m: m, n: n, k: k,
                         a: a32.values, lda: a32.leadingDimension, b: b32.values, ldb: b32.leadingDimension,
                         beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }

    /// A dense f32 copy of an operand (the caller deallocates `values`), read in the order it is stored: row-major
    /// when its rows are contiguous, else column-major when its columns are (a transposed weight: `transposed`, the
    /// leading dimension is then its row count) — contiguous runs widened by `tk_widen_bf16`, not element by element.
    static func widened(_ x: BF16Operand) -> (values: UnsafeMutablePointer<Float>, transposed: Bool, leadingDimension: Int) {
        let out = UnsafeMutablePointer<Float>.allocate(capacity: max(1, x.rows * x.columns))
        if x.columnStride == 1 || x.columns == 1 {
            for i in 0..<x.rows { tk_widen_bf16(x.base + i * x.rowStride, out + i * x.columns, x.columns) }
            return (out, false, max(1, x.columns))
        }
        if x.rowStride == 1 || x.rows == 1 {
            for j in 0..<x.columns { tk_widen_bf16(x.base + j * x.columnStride, out + j * x.rows, x.rows) }
            return (out, true, max(1, x.rows))
        }
        for i in 0..<x.rows {
            for j in 0..<x.columns {
                out[i * x.columns + j] = HalfConversion.float(fromBF16: x.base[i * x.rowStride + j * x.columnStride])
            }
        }
        return (out, false, max(1, x.columns))
    }

    /// A bf16 copy of an f32 (or f16) tensor, rounded to nearest even, converted on all cores; bf16 tensors as they are.
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

