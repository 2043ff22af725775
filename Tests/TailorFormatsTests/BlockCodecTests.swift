// GGML block codecs against gguf-py: dequantization of all five types, bit-exact Q8_0/Q4_0/Q4_1 quantization.
import Foundation
import TailorFormats
import XCTest

final class BlockCodecTests: XCTestCase {
    private struct Case {
        var type: GGMLType
        var input: [Float]?
        var bytes: [UInt8]
        var dequantized: [Float]
    }

    private func cases() throws -> [Case] {
        let list = try XCTUnwrap(try Fixtures.json("gguf/codecs.json") as? [[String: Any]])
        return try list.map { entry in
            let name = try XCTUnwrap(entry["type"] as? String)
            let type = try XCTUnwrap(GGMLType.allCases.first { $0.name == name })
            let hex = try XCTUnwrap(entry["bytes"] as? String)
            return Case(type: type, input: (entry["input"] as? [NSNumber])?.map(\.floatValue), bytes: Self.bytes(hex: hex),
                        dequantized: (entry["dequantized"] as? [NSNumber] ?? []).map(\.floatValue))
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).map { i in
            UInt8(String(decoding: digits[i...(i + 1)], as: UTF8.self), radix: 16) ?? 0
        }
    }

    func testDequantizeMatchesGGUFPy() throws {
        let all = try cases()
        XCTAssertEqual(Set(all.map(\.type.name)), ["Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"])
        for c in all {
            var out = [Float](repeating: .nan, count: c.dequantized.count)
            try c.bytes.withUnsafeBytes { raw in
                try out.withUnsafeMutableBufferPointer { try GGMLDequantize.dequantize(c.type, raw, into: $0) }
            }
            // Exact: the decoders use the same f32 operations in the same order as gguf-py's numpy code.
            XCTAssertEqual(out, c.dequantized, "\(c.type)")
        }
    }

    func testQuantizeIsBitExactWithGGUFPy() throws {
        for c in try cases() where c.input != nil {
            let ours = try GGMLQuantize.quantize(c.type, c.input ?? [])
            XCTAssertEqual(ours, c.bytes, "\(c.type)")
        }
    }

    /// The one-block vectors of spec §4.2: 32 values (k − 15.5)/16.
    func testSpecVectors() throws {
        let values = (0..<32).map { (Float($0) - 15.5) / 16 }
        let expected: [(GGMLType, String)] = [
            (.Q8_0, "d01f8189919aa2aab2bac3cbd3dbe3ecf4fc040c141d252d353d464e565e666f777f"),
            (.Q4_0, "c02f809191a2a2b3b3c4c4d5d5e6e6f7f7f8"),
            (.Q4_1, "2230c0bb80809191a2a2b3b3c4c4d5d5e6e6f7f7"),
        ]
        for (type, hex) in expected {
            XCTAssertEqual(try GGMLQuantize.quantize(type, values), Self.bytes(hex: hex), "\(type)")
        }
    }

    func testQuantizeRejectsPartialBlocksAndKQuants() {
        assertFormatError(try GGMLQuantize.quantize(.Q8_0, [Float](repeating: 1, count: 31)), contains: ["multiple of 32"])
        assertFormatError(try GGMLQuantize.quantize(.Q4_K, [Float](repeating: 1, count: 256)), contains: ["Q4_K"])
    }
}
