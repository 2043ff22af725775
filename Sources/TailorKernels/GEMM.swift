// Single-precision matrix products through the platform BLAS (Accelerate on macOS, OpenBLAS on Linux).
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// Row-major SGEMM: `C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C`.
enum GEMM {
    static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
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
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
