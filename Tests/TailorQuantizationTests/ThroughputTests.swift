// Memory per parameter and dequantization throughput of the tile kernel.
import Foundation
import TailorQuantization
import TailorTensor
import XCTest

final class ThroughputTests: XCTestCase {
    static func weights(_ rows: Int, _ columns: Int) -> Tensor {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let values = (0..<(rows * columns)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(state >> 40) / Float(1 << 24) - 0.5) * 0.04
        }
        return Tensor(shape: [rows, columns], values: values)
    }

    /// 576×1536 (SmolLM2-135M's gate/up projections): packed 0.5 B/param, plus 4 B per 64 for f32 scales, or
    /// 1 B per 64 + 4 B per 16 384 (+ 4 B offset) when double-quantized.
    func testBytesPerParameter() throws {
        let t = Self.weights(576, 1536)
        let plain = try FourBitQuantizer(type: .nf4, blockSize: 64, doubleQuant: false).quantize(t)
        let nested = try FourBitQuantizer(type: .nf4, blockSize: 64, doubleQuant: true).quantize(t)
        let n = 576 * 1536
        XCTAssertEqual(plain.byteCount, n / 2 + n / 64 * 4)
        XCTAssertEqual(nested.byteCount, n / 2 + n / 64 + (n / 64 + 255) / 256 * 4 + 4)
        let plainBPP = Double(plain.byteCount) / Double(n), nestedBPP = Double(nested.byteCount) / Double(n)
        print(String(format: "bytes/param 576x1536: plain %.5f (%d B), double-quant %.5f (%d B), bf16 2.0",
                     plainBPP, plain.byteCount, nestedBPP, nested.byteCount))
        // Double quantization reconstructs scales within a fraction of the 8-bit step.
        let a = plain.blockScales(), b = nested.blockScales()
        let worst = zip(a, b).map { abs($0 - $1) / max($0, 1e-6) }.max() ?? 0
        XCTAssertLessThan(worst, 0.02, "8-bit dynamic map: relative scale error stays small for these scales")
    }

    /// Throughput of `dequantizeRows` (set TAILOR_QUANT_BENCH=1; meaningful in `swift test -c release`).
    func testDequantThroughput() throws {
        guard ProcessInfo.processInfo.environment["TAILOR_QUANT_BENCH"] != nil else {
            throw XCTSkip("set TAILOR_QUANT_BENCH=1 to measure")
        }
        let rows = 2048, columns = 2048, tile = 64
        let t = Self.weights(rows, columns)
        for doubleQuant in [false, true] {
            let m = try FourBitQuantizer(type: .nf4, blockSize: 64, doubleQuant: doubleQuant).quantize(t)
            var f32 = [Float](repeating: 0, count: tile * columns)
            var bf16 = [UInt16](repeating: 0, count: tile * columns)
            let repeats = 20
            func measure(_ body: (Range<Int>) -> Void) -> Double {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats {
                    for r in stride(from: 0, to: rows, by: tile) { body(r..<min(rows, r + tile)) }
                }
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
            let f32Seconds = f32.withUnsafeMutableBufferPointer { out in
                measure { m.dequantizeRows($0, into: out.baseAddress!) }
            }
            let bf16Seconds = bf16.withUnsafeMutableBufferPointer { out in
                measure { m.dequantizeRows($0, intoBF16: out.baseAddress!) }
            }
            let quantizeStart = DispatchTime.now().uptimeNanoseconds
            _ = try FourBitQuantizer(type: .nf4, blockSize: 64, doubleQuant: doubleQuant).quantize(t)
            let quantizeSeconds = Double(DispatchTime.now().uptimeNanoseconds - quantizeStart) / 1e9
            print(String(format: "quantize %dx%d f32: %.1f Melem/s", rows, columns,
                         Double(rows * columns) / quantizeSeconds / 1e6))
            let elements = Double(rows * columns * repeats)
            print(String(format: "dequant %@ %dx%d tiles of %d rows: f32 %.2f GB/s out (%.2f Gelem/s), bf16 %.2f GB/s out",
                         doubleQuant ? "double-quant" : "plain", rows, columns, tile,
                         elements * 4 / f32Seconds / 1e9, elements / f32Seconds / 1e9, elements * 2 / bf16Seconds / 1e9))
        }
    }
}
