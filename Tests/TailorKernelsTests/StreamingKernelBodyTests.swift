// The vector bodies of the streaming kernels (AVX2, AVX-512) against their scalar body, called directly: any row
// range (not only the multiples of 4 the products hand out), 1–5 input rows, widths with and without a vector tail,
// extreme int8 values. Rows outside the range must stay untouched.
import CTailorKernels
import XCTest
import TailorTensor
@testable import TailorKernels

final class StreamingKernelBodyTests: XCTestCase {
    let n = 11, untouched: Float = -777
    let rowRanges = [0..<11, 3..<10, 5..<6, 1..<8, 2..<5]

    /// The vector bodies this CPU has (none: the test has nothing to compare and is skipped).
    func vectorBodies() throws -> [StreamingKernelBody] {
        let bodies = StreamingKernelBody.allCases.filter { $0 > .scalar && $0 <= streamingKernelBody }
        if bodies.isEmpty { throw XCTSkip("this CPU runs the scalar bodies only") }
        return bodies
    }

    /// `y` from `run` under each cap, every in-range value within `1e-5` of the scalar one relative to `scale`
    /// (the sum of |products|: the vector bodies add the same products in another order).
    func compare(_ body: StreamingKernelBody, m: Int, rows: Range<Int>, scale: [Float], _ what: String,
                 run: (UnsafeMutablePointer<Float>) -> Void) {
        func output(_ cap: StreamingKernelBody) -> [Float] {
            var y = [Float](repeating: untouched, count: m * n)
            withStreamingKernels(cappedAt: cap) { y.withUnsafeMutableBufferPointer { run($0.baseAddress!) } }
            return y
        }
        let (fast, slow) = (output(body), output(.scalar))
        for i in 0..<m {
            for j in 0..<n {
                let (a, b) = (fast[i * n + j], slow[i * n + j])
                if rows.contains(j) {
                    XCTAssertNotEqual(b, untouched, "\(what): scalar body skipped [\(i), \(j)]")
                    XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, scale[i * n + j]), "\(body) \(what) [\(i), \(j)]")
                } else {
                    XCTAssertEqual(a, untouched, "\(body) \(what): wrote [\(i), \(j)] outside rows \(rows)")
                }
            }
        }
    }

    func testBF16BodiesMatchScalar() throws {
        var rng = SplitMix64(seed: 5)
        func values(_ count: Int) -> [UInt16] {
            let x = Tensor(shape: [count], values: (0..<count).map { _ in Float(Double(rng.next() % 20001) / 10000 - 1) })
            var out = [UInt16](repeating: 0, count: count)
            x.withUnsafeFloats { tk_round_bf16($0.baseAddress!, &out, count) }
            return out
        }
        func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
        for body in try vectorBodies() {
            for m in 1...5 {
                for k in [1, 7, 15, 16, 33, 100, 577] {
                    let x = values(m * k), w = values(n * k)
                    let scale = (0..<(m * n)).map { e in (0..<k).reduce(Float(0)) { $0 + abs(float(x[e / n * k + $1]) * float(w[e % n * k + $1])) } }
                    for rows in rowRanges {
                        compare(body, m: m, rows: rows, scale: scale, "bf16 m \(m) k \(k) rows \(rows)") { y in
                            tk_gemm_bf16(x, m, w, k, rows.lowerBound, rows.upperBound, y, n)
                        }
                    }
                }
            }
        }
    }

    func testInt8BodiesMatchScalar() throws {
        var rng = SplitMix64(seed: 6)
        // Quantized values anywhere in q8_0's range, a quarter of them at its ends (±127: vpmaddubsw's pair sums
        // come closest to int16 overflow there) and some zeros (vpsignb zeroes those lanes).
        func quants(_ count: Int) -> [Int8] {
            (0..<count).map { _ in
                switch rng.next() % 8 {
                case 0: 127
                case 1: -127
                case 2: 0
                default: Int8(Int(rng.next() % 255) - 127)
                }
            }
        }
        func scales(_ count: Int) -> [Float] { (0..<count).map { _ in Float(rng.next() % 1000 + 1) * 1e-5 } }
        for body in try vectorBodies() {
            for m in 1...5 {
                for k in [32, 96, 160, 576] {
                    let blocks = k / Int(TK_Q8_BLOCK)
                    let xq = quants(m * k), xd = scales(m * blocks), wq = quants(n * k)
                    let wd = scales(n * blocks).map { Float16($0).bitPattern }
                    let scale = (0..<(m * n)).map { e in
                        (0..<k).reduce(Float(0)) { sum, p in
                            let (i, j) = (e / n, e % n)
                            return sum + abs(Float(xq[i * k + p]) * Float(wq[j * k + p])) * xd[i * blocks + p / 32]
                                * Float(Float16(bitPattern: wd[j * blocks + p / 32]))
                        }
                    }
                    for rows in rowRanges {
                        compare(body, m: m, rows: rows, scale: scale, "int8 m \(m) k \(k) rows \(rows)") { y in
                            tk_gemm_q8(xq, xd, m, wq, wd, k, rows.lowerBound, rows.upperBound, y, n)
                        }
                    }
                }
            }
        }
    }

    func testMemoryProbeReadsEveryByte() throws {
        // The probe's value changes when any 8-byte word changes, in every body (else the read could be skipped).
        let bytes = 64 * 37
        for body in try vectorBodies() + [.scalar] {
            var buffer = [UInt8](repeating: 3, count: bytes)
            let before = withStreamingKernels(cappedAt: body) { tk_read_memory(buffer, bytes) }
            for offset in [0, 8, 1000, bytes - 8] {
                buffer[offset] ^= 0x10
                let after = withStreamingKernels(cappedAt: body) { tk_read_memory(buffer, bytes) }
                XCTAssertNotEqual(before, after, "\(body): byte \(offset) not read")
                buffer[offset] ^= 0x10
            }
        }
    }
}
