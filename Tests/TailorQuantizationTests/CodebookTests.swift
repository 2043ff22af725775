// Code books, thresholds, the dynamic map and the spec's test vectors (compatibility.md §1.1–1.6).
import TailorQuantization
import TailorText
import TailorTensor
import XCTest

final class CodebookTests: XCTestCase {
    func testNF4CodebookHashAndBnbBits() throws {
        XCTAssertEqual(sha256Hex(floatBytes(NF4.codebook)),
                       "8501941daa1b8a90ad1bbfeb632e5101b5dddbc4bb52d6e55abcfd777e60c06a")
        let tables = try Fixtures.json("quant_tables.json")
        XCTAssertEqual(NF4.codebook.map { String(format: "%08x", $0.bitPattern) }, tables["nf4_bits"] as? [String])
        XCTAssertEqual(FP4.codebook.map { String(format: "%08x", $0.bitPattern) }, tables["fp4_bits"] as? [String])
    }

    func testNF4ThresholdsEqualCudaConstants() {
        let cuda: [Float] = [
            -0.8480963706970215, -0.6106328964233398, -0.4599952697753906, -0.33967941999435425,
            -0.23460739850997925, -0.13791173696517944, -0.045525018125772476, 0.03979014977812767,
            0.120255246758461, 0.2035212516784668, 0.2920137643814087, 0.3893125355243683, 0.5016634464263916,
            0.6427869200706482, 0.8614784479141235,
        ]
        XCTAssertEqual(NF4.thresholds, cuda)
        // A value exactly on a threshold takes the lower code; the next float up takes the higher.
        for (i, t) in cuda.enumerated() {
            XCTAssertEqual(NF4.code(for: t), UInt8(i))
            XCTAssertEqual(NF4.code(for: t.nextUp), UInt8(i + 1))
        }
    }

    func testDynamicMapHashLandmarksAndBnbBits() throws {
        let map = DynamicMap.signed256
        XCTAssertEqual(map.count, 256)
        XCTAssertEqual(sha256Hex(floatBytes(map)), "e732639a65f497b4ad684bb166a4467708255edd5207757de8b8f0c7e1fda89c")
        XCTAssertEqual(map[0], -0.992968738079071)
        XCTAssertEqual(map[127], 0)
        XCTAssertEqual(map[128], 5.500000384017767e-07)
        XCTAssertEqual(map[255], 1)
        let tables = try Fixtures.json("quant_tables.json")
        XCTAssertEqual(map.map { String(format: "%08x", $0.bitPattern) }, tables["dynamic_map_bits"] as? [String])
    }

    /// Spec §1.2/§1.4 test vector: x_k = (k - 31.5)/32, block 64.
    func testRampVectors() throws {
        let ramp = Tensor(shape: [64], values: (0..<64).map { (Float($0) - 31.5) / 32 })
        let nf4 = try FourBitQuantizer(type: .nf4, blockSize: 64, doubleQuant: false).quantize(ramp)
        XCTAssertEqual(hexString(nf4.packed.bytes), "00000111111112222233344445556667788899aaabbbccccddddeeeeeeefffff")
        XCTAssertEqual(nf4.blockScales(), [0.984375])
        let fp4 = try FourBitQuantizer(type: .fp4, blockSize: 64, doubleQuant: false).quantize(ramp)
        XCTAssertEqual(hexString(fp4.packed.bytes), "bbbbbbaaaaaaaadddddccccffeeee99911166667744445555522222222333333")
    }

    /// Spec §1.5 worked example.
    func testDoubleQuantWorkedExample() {
        let nested = FourBitQuantizer.doubleQuantize(Tensor(shape: [4], values: [0.5, 0.25, 0.125, 1.0]))
        XCTAssertEqual(nested.offset, 0.46875)
        XCTAssertEqual(nested.nestedAbsmax.floats(), [0.53125])
        XCTAssertEqual(nested.codes.bytes, [176, 41, 25, 255])
        let decoded = nested.codes.bytes.map { nested.map[Int($0)] * 0.53125 + nested.offset }
        XCTAssertEqual(decoded, [0.50020999, 0.24753419, 0.12800291, 1.0])
    }

    func testPythonFloatReprMatchesJsonDumps() throws {
        let tables = try Fixtures.json("quant_tables.json")
        let pairs = try XCTUnwrap(tables["python_float_repr"] as? [[String]])
        XCTAssertGreaterThan(pairs.count, 50)
        for pair in pairs {
            let bits = try XCTUnwrap(UInt32(pair[0], radix: 16))
            XCTAssertEqual(pythonFloatRepr(Double(Float(bitPattern: bits))), pair[1], "f32 bits \(pair[0])")
        }
    }

    func testInvalidConfigurationsThrowNamedErrors() {
        let t = Tensor(shape: [64], values: [Float](repeating: 1, count: 64))
        for size in [0, 16, 48, 8192] {
            XCTAssertThrowsError(try FourBitQuantizer(type: .nf4, blockSize: size).quantize(t)) {
                XCTAssertEqual($0 as? QuantizationError, .invalidBlockSize(size))
            }
        }
        XCTAssertThrowsError(try FourBitQuantizer().quantize(Tensor(zeros: [4], dtype: .i32))) {
            XCTAssertEqual($0 as? QuantizationError, .unsupportedInputDType(.i32))
        }
    }
}
