// The f32 products: oneDNN's SGEMM and the BLAS one, each checked against f64 dot products on every transpose
// combination, alpha and beta, leading dimensions wider than the operands, odd sizes and the degenerate ones.
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class GEMMTests: XCTestCase {
    /// `alpha · op(A)·op(B) + beta · C` in f64 over row-major operands with leading dimensions.
    private func reference(_ ta: Bool, _ tb: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
                           b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = ta ? a[p * lda + i] : a[i * lda + p], y = tb ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(x) * Double(y)
                }
                out[i * ldc + j] = Float(Double(alpha) * sum + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])))
            }
        }
        return out
    }

    private func values(_ count: Int, seed: UInt64) -> [Float] { Tensor.random([count], seed: seed).floats() }

    /// Runs one product through `run` and compares it with the f64 reference (a NaN in C must vanish at beta = 0).
    private func check(m: Int, n: Int, k: Int, ta: Bool, tb: Bool, alpha: Float, beta: Float, seed: UInt64,
                       _ what: String,
                       run: (UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int) -> Void) {
        let lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5
        let a = values((ta ? k : m) * lda, seed: seed), b = values((tb ? n : k) * ldb, seed: seed + 1)
        var c = values(m * ldc, seed: seed + 2)
        if beta == 0, !c.isEmpty { c[0] = .nan }
        let expected = reference(ta, tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                                 c: c, ldc: ldc)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in run(pa.baseAddress!, lda, pb.baseAddress!, ldb, pc.baseAddress!, ldc) }
            }
        }
        let label = "\(what) \(m)×\(n)×\(k) ta \(ta) tb \(tb) α \(alpha) β \(beta)"
        for i in 0..<m {
            for j in ldc - 5 ..< ldc where j >= n {   // padding between rows is never written
                XCTAssertEqual(c[i * ldc + j].bitPattern, expected[i * ldc + j].bitPattern, "\(label): padding written")
            }
        }
        let rows = (0..<m).flatMap { i in (0..<n).map { i * ldc + $0 } }
        XCTAssertLessThan(maxRelativeError(rows.map { c[$0] }, rows.map { expected[$0] }).error, 1e-5, label)
    }

    private let shapes = [(1, 1, 1), (1, 37, 19), (2, 3, 5), (17, 16, 33), (33, 1, 70), (130, 65, 8), (64, 1536, 16),
                          (1024, 16, 40), (5, 7, 0)]

    func testEachLibraryMatchesF64DotProducts() {
        var libraries: [GEMM.Library] = [.blas]
        if GEMM.Library.preferred == .oneDNN { libraries.append(.oneDNN) }
        for library in libraries {
            for (s, (m, n, k)) in shapes.enumerated() {
                for ta in [false, true] {
                    for tb in [false, true] {
                        for (alpha, beta) in [(Float(1), Float(0)), (0.37, 1), (-2, 0.5)] {
                            check(m: m, n: n, k: k, ta: ta, tb: tb, alpha: alpha, beta: beta, seed: UInt64(s), "\(library)") {
                                a, lda, b, ldb, c, ldc in
                                GEMM.sgemmSerial(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                                 b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, library: library)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The split over the workers (column blocks when C is wide, row blocks when it is tall) covers C exactly once,
    /// and runs the same way every time.
    func testSplitProductsMatchF64AndRepeatBitForBit() {
        for (s, (m, n, k)) in [(300, 200, 40), (40, 700, 24), (1, 8192, 130)].enumerated() {
            for ta in [false, true] {
                for tb in [false, true] {
                    var first: [Float] = []
                    for round in 0..<2 {
                        check(m: m, n: n, k: k, ta: ta, tb: tb, alpha: 0.5, beta: 0, seed: UInt64(s), "split") {
                            a, lda, b, ldb, c, ldc in
                            GEMM.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b,
                                       ldb: ldb, beta: 0, c: c, ldc: ldc)
                            let out = Array(UnsafeBufferPointer(start: c, count: m * ldc))
                            if round == 0 { first = out } else {
                                XCTAssertEqual(out.map(\.bitPattern), first.map(\.bitPattern), "\(m)×\(n)×\(k) repeated")
                            }
                        }
                    }
                }
            }
        }
    }
}
