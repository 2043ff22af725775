// Single-precision matrix products: oneDNN's SGEMM where Tailor links oneDNN (Linux), the platform BLAS otherwise
// (Accelerate on macOS) and for matrix-vector products (OpenBLAS's SGEMV).
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
#if canImport(CDNNL)
import CDNNL
#endif

/// Row-major SGEMM: `C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C`.
///
/// Tailor owns the parallelism: the libraries run single-threaded and large products are split into column (or row)
/// blocks of C, one per core, so no library thread pool spins against Tailor's workers. The split depends only on
/// the shape and the number of workers, so a machine computes a product the same way every time (oneDNN may sum an
/// element's terms in another order for another split: results can differ in the last bits between machines with
/// different core counts, as they do between instruction sets).
///
/// oneDNN rather than OpenBLAS for the products with more than one row: on the training step's shapes it is as fast
/// on the large products and 1.3–1.9× on LoRA's rank-16 ones (OpenBLAS packs a whole operand per call), and it
/// writes C in the product's pass where OpenBLAS first scales (or zeroes) C in a pass of its own. Measured in
/// BENCHMARKS.md ("Session 11").
enum GEMM {
    /// Makes the BLAS library single-threaded, once.
    static let singleThreadedBLAS: Void = {
        #if !canImport(Accelerate)
        openblas_set_num_threads(1)
        #endif
    }()

    static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = singleThreadedBLAS
        let workers = Parallel.workerCount
        // Matrix-vector products (decode) split only when large: splitting small ones costs more than it saves.
        guard workers > 1, m * n * k >= (m == 1 ? 1 << 20 : 1 << 18) else {
            sgemmSerial(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if n >= m {
            // Column blocks of C: columns j of op(B) are rows j of B (transposed) or columns j of B.
            Parallel.forEachChunk(n, costPerItem: 1 << 20) { cols in
                let bStart = transposeB ? b + cols.lowerBound * ldb : b + cols.lowerBound
                sgemmSerial(transposeA: transposeA, transposeB: transposeB, m: m, n: cols.count, k: k, alpha: alpha, a: a,
                            lda: lda, b: bStart, ldb: ldb, beta: beta, c: c + cols.lowerBound, ldc: ldc)
            }
        } else {
            // Row blocks of C: rows i of op(A) are rows i of A, or columns i of A when transposed.
            Parallel.forEachChunk(m, costPerItem: 1 << 20) { rows in
                let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
                sgemmSerial(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: alpha,
                            a: aStart, lda: lda, b: b, ldb: ldb, beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
            }
        }
    }

    static func sgemmSerial(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, library: Library = .preferred) {
        _ = singleThreadedBLAS   // also here: kernels that split work themselves call this directly
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched for k = 0 only when beta = 1; make the result explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        if m == 1 && beta == 0 && !transposeA {
            // A single row: matrix-vector products run several times faster than SGEMM's M = 1 path.
            // y[n] = alpha · op(B)ᵀ… written as y = alpha · Bᵀx (B stored [k, n]) or alpha · B x (B stored [n, k]).
            cblas_sgemv(CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans, Int32(transposeB ? n : k),
                        Int32(transposeB ? k : n), alpha, b, Int32(ldb), a, 1, 0, c, 1)
            return
        }
        #if canImport(CDNNL)
        if library == .oneDNN {
            omp_set_num_threads(1)   // this thread's OpenMP setting: oneDNN runs the product on the calling thread
            if dnnl_sgemm(transposeA ? trans : noTrans, transposeB ? trans : noTrans, Int64(m), Int64(n), Int64(k), alpha,
                          a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc)) == dnnl_success {
                return
            }
        }
        #endif
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    #if canImport(CDNNL)
    /// oneDNN's transpose flags (`dnnl_sgemm` takes BLAS's characters).
    private static let (noTrans, trans) = (CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "T")))
    #endif

    /// The library that runs a product of more than one row.
    enum Library: Sendable {
        /// oneDNN's SGEMM, falling back to BLAS where oneDNN is not linked or refuses the call.
        case oneDNN
        /// The platform BLAS.
        case blas

        /// oneDNN where Tailor links it.
        static var preferred: Library {
            #if canImport(CDNNL)
            .oneDNN
            #else
            .blas
            #endif
        }
    }
}
