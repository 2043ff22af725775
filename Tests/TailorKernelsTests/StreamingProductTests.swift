// Decode products (bf16 and q8_0 weights, few input rows) against the reference backend, every kernel body the CPU
// has (AVX-512, AVX2, scalar).
import CTailorKernels
import XCTest
import TailorTensor
import TailorTestSupport
@testable import TailorKernels

final class StreamingProductTests: XCTestCase {
    let cpu = CPUBackend(), reference = ReferenceBackend()

    /// (rows, outputs, inputs): one row (decode), batched decode up to the streaming limit, odd sizes and tails.
    let shapes = [(1, 7, 33), (1, 130, 577), (2, 10, 49), (3, 9, 64), (4, 6, 160), (5, 67, 96), (16, 33, 320), (4, 1, 1)]

    func testBF16ProductMatchesRoundedOperands() {
        forEachKernelBody { kernel in
            for (m, n, k) in shapes {
                let x = Tensor.random([m, k], seed: UInt64(m * 1000 + k)), w = Tensor.random([n, k], seed: 7).converted(to: .bf16)
                let b = Tensor.random([n], seed: 8)
                // Same bf16 operands on both sides; only the f32 summation order differs.
                assertClose(bf16StreamingProduct(x, weight: w, bias: b),
                            reference.linear(x, weight: w, bias: b, precision: .bf16), tolerance: 1e-5, "\(kernel) bf16 \(m)×\(n)×\(k)")
            }
        }
    }

    func testBackendTakesTheStreamingPathForFewRowsOnly() {
        let w = Tensor.random([40, 64], seed: 9).converted(to: .bf16)
        for m in [1, streamingProductMaxRows, streamingProductMaxRows + 1] {
            let x = Tensor.random([m, 64], seed: UInt64(m))
            assertClose(cpu.linear(x, weight: w, bias: nil, precision: .bf16),
                        reference.linear(x, weight: w, bias: nil, precision: .bf16), tolerance: 1e-5, "\(m) rows")
        }
    }

    func testGroupedProductsEqualOneProductEach() throws {
        // q/k/v-like groups: widths that split the 4-row tiles unevenly between the cores, with and without biases.
        let widths = [13, 5, 8, 130]
        forEachKernelBody { kernel in
            for m in [1, 3, streamingProductMaxRows] {
                let x = Tensor.random([m, 64], seed: UInt64(m))
                let weights = widths.enumerated().map { Tensor.random([$1, 64], seed: UInt64(20 + $0)) }
                let biases: [Tensor?] = widths.enumerated().map { $0 % 2 == 0 ? Tensor.random([$1], seed: UInt64(30 + $0)) : nil }
                let bf16 = weights.map { $0.converted(to: .bf16) }
                let grouped = cpu.linears(x, weights: bf16, biases: biases, precision: .bf16)
                let int8 = weights.compactMap { try? Int8BlockMatrix(quantizing: $0) }
                XCTAssertEqual(int8.count, weights.count)
                let groupedInt8 = cpu.linears(x, packedWeights: int8, biases: biases, precision: .bf16)
                for i in widths.indices {
                    // Each output is exactly what the product with its weight alone gives.
                    XCTAssertEqual(grouped[i].shape, [m, widths[i]])
                    XCTAssertEqual(grouped[i].floats(), cpu.linear(x, weight: bf16[i], bias: biases[i], precision: .bf16).floats(),
                                   "\(kernel) bf16 \(m) rows, weight \(i)")
                    XCTAssertEqual(groupedInt8[i].floats(), cpu.linear(x, packedWeight: int8[i], bias: biases[i]).floats(),
                                   "\(kernel) int8 \(m) rows, weight \(i)")
                    assertClose(grouped[i], reference.linear(x, weight: bf16[i], bias: biases[i], precision: .bf16),
                                tolerance: 1e-5, "\(kernel) bf16 vs reference, weight \(i)")
                }
            }
        }
        // Many rows (prefill) and f32 weights take the one-product-each path.
        let x = Tensor.random([streamingProductMaxRows + 1, 64], seed: 5)
        let weights = [Tensor.random([9, 64], seed: 6), Tensor.random([4, 64], seed: 7)]
        for precision in [MatmulPrecision.f32, .bf16] {
            let stored = weights.map { precision == .bf16 ? $0.converted(to: .bf16) : $0 }
            for (i, y) in cpu.linears(x, weights: stored, biases: [nil, nil], precision: precision).enumerated() {
                XCTAssertEqual(y.floats(), cpu.linear(x, weight: stored[i], bias: nil, precision: precision).floats())
            }
        }
        XCTAssertTrue(cpu.linears(x, weights: [], biases: [], precision: .bf16).isEmpty)
    }

    func testCacheRowsRoundToF16AsTensorConversion() {
        // Values at f16's edges (largest finite, overflow, subnormals, halfway cases) and random ones; widths with and
        // without the vector tail; two batch entries written at row 3 of 6.
        let edges: [Float] = [65504, 65520, -65536, 1e-8, -6e-8, 2.9802322e-8, 1.0009766, 1.0004883, 0, -0.0, .infinity]
        forEachKernelBody { kernel in
            for width in [1, 8, 13, 64] {
                var values = Tensor.random([2 * 2, width], seed: UInt64(width), scale: 100).floats()
                for (i, edge) in edges.enumerated() where i < values.count { values[i] = edge }
                let source = Tensor(shape: [2 * 2, width], values: values)
                for dtype in [DType.f16, .f32] {
                    var cache = Tensor(zeros: [2 * 6, width], dtype: dtype)
                    writeCacheRows(source, into: &cache, batch: 2, capacity: 6, start: 3, count: 2)
                    let converted = source.converted(to: dtype)
                    let row = width * dtype.byteSize
                    cache.withUnsafeRawBytes { got in
                        converted.withUnsafeRawBytes { want in
                            for b in 0..<2 {
                                XCTAssertEqual(Array(got[((b * 6 + 3) * row)..<((b * 6 + 5) * row)]), Array(want[(b * 2 * row)..<((b * 2 + 2) * row)]),
                                               "\(kernel) \(dtype) width \(width) entry \(b)")
                                XCTAssertTrue(got[((b * 6) * row)..<((b * 6 + 3) * row)].allSatisfy { $0 == 0 }, "rows before untouched")
                            }
                        }
                    }
                }
            }
        }
    }

    func testInt8ProductMatchesQuantizedOperands() throws {
        forEachKernelBody { kernel in
            for (m, n, k) in shapes where k % Int8BlockMatrix.blockSize == 0 {
                let x = Tensor.random([m, k], seed: UInt64(m * 1000 + k)), b = Tensor.random([n], seed: 8)
                let w = Tensor.random([n, k], seed: 7)
                guard let int8 = try? Int8BlockMatrix(quantizing: w) else { return XCTFail("\(k) columns refused") }
                // The oracle multiplies the decoded int8 weight by the input quantized and decoded the same way, in f64.
                assertClose(cpu.linear(x, packedWeight: int8, bias: b),
                            reference.linear(int8RoundTrip(x), packedWeight: int8, bias: b), tolerance: 1e-5,
                            "\(kernel) int8 \(m)×\(n)×\(k)")
                // And it stays near the f32 product: both operands carry q8_0's rounding noise (half a step of
                // max|block|/127 per value), about 0.03 on sums of a few hundred products of values in [-1, 1].
                assertClose(cpu.linear(x, packedWeight: int8, bias: b), reference.linear(x, weight: w, bias: b),
                            tolerance: 0.15, "\(kernel) int8 vs f32 \(m)×\(n)×\(k)")
            }
        }
        // Many rows (prefill) take the same kernel.
        let x = Tensor.random([37, 64], seed: 3), int8 = try Int8BlockMatrix(quantizing: Tensor.random([20, 64], seed: 4))
        assertClose(cpu.linear(x, packedWeight: int8, bias: nil), reference.linear(int8RoundTrip(x), packedWeight: int8, bias: nil),
                    tolerance: 1e-5, "37 rows")
    }

    func testInt8BlocksFollowQ8Zero() throws {
        // scale = max|w|/127 stored as f16, q = round(w/scale): every decoded weight within half a step of the
        // original plus the scale's f16 rounding (at most 127·2⁻¹¹ of a step).
        let w = Tensor.random([5, 96], seed: 11)
        let decoded = try Int8BlockMatrix(quantizing: w.converted(to: .bf16).converted(to: .f32)).decoded().floats()
        let source = w.converted(to: .bf16).floats()
        for block in 0..<(source.count / 32) {
            let range = (block * 32)..<(block * 32 + 32)
            let step = range.map { abs(source[$0]) }.max()! / 127
            for i in range { XCTAssertEqual(decoded[i], source[i], accuracy: step * 0.57, "weight \(i)") }
        }
        XCTAssertEqual(try Int8BlockMatrix(quantizing: w).byteCount, 5 * 96 + 2 * 5 * 3)
    }

    func testInt8InputQuantizationFollowsGGMLBitForBit() {
        // GGML's quantize_row_q8_0_ref: d = max|x|/127, q = roundf(x·(1/d)), halves away from zero. Blocks whose
        // max is 127 (d = 1) put values exactly on halves and just beside them; the others are random, one is zero.
        var values = [Float](repeating: 0, count: 6 * 32)
        let crafted: [Float] = [127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, 0.49999997, -0.49999997, 1.5000001, 3.4999998,
                                -0.0, 1e-30, 64.5, -64.5, 7.5]
        for (i, v) in crafted.enumerated() { values[i] = v }
        let random = Tensor.random([4 * 32], seed: 21).floats()
        for i in 0..<(3 * 32) { values[32 + i] = random[i] * Float(1 + i % 7) }
        // block 4 stays zero; block 5 holds tiny values
        for i in 0..<32 { values[5 * 32 + i] = random[96 + i] * 1e-6 }
        var expectedQ = [Int8](), expectedD = [Float]()
        for b in 0..<6 {
            let block = values[(b * 32)..<(b * 32 + 32)]
            let d = block.map(abs).max()! / 127, id: Float = d != 0 ? 1 / d : 0
            expectedD.append(d)
            expectedQ += block.map { Int8(($0 * id).rounded()) }
        }
        forEachKernelBody { kernel in
            var q = [Int8](repeating: 0, count: values.count), d = [Float](repeating: 0, count: 6)
            tk_quantize_q8(values, 2, 96, &q, &d)
            XCTAssertEqual(q, expectedQ, "\(kernel) values")
            XCTAssertEqual(d, expectedD, "\(kernel) scales")
        }
    }

    func testPackedRowsLookUpDecodedRows() throws {
        // The int8 embedding lookup: rows in any order, repeated, equal the decoded matrix's rows.
        let int8 = try Int8BlockMatrix(quantizing: Tensor.random([9, 64], seed: 12))
        let decoded = int8.decoded().floats(), ids: [Int32] = [8, 0, 3, 3]
        XCTAssertEqual(int8.rows(ids).shape, [4, 64])
        XCTAssertEqual(int8.rows(ids).floats(), ids.flatMap { decoded[(Int($0) * 64)..<(Int($0) * 64 + 64)] })
    }

    func testInt8RefusesWidthsThatAreNotWholeBlocks() {
        XCTAssertThrowsError(try Int8BlockMatrix(quantizing: Tensor.random([4, 33], seed: 1))) { error in
            XCTAssertEqual(error as? InferenceWeightsError, .int8ColumnsNotMultipleOfBlock(columns: 33))
        }
        XCTAssertThrowsError(try Int8BlockMatrix(quantizing: Tensor.random([64], seed: 1)))
    }
}
