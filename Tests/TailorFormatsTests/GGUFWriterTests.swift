// GGUF writer: rewriting gguf-py's files from their parsed contents reproduces them byte for byte.
import Foundation
import TailorFormats
import TailorTensor
import XCTest

final class GGUFWriterTests: XCTestCase {
    func testRewriteIsByteIdenticalWithGGUFPy() throws {
        for name in ["tiny_llama.gguf", "tiny_qwen2.gguf"] {
            let original = try Fixtures.data("gguf/\(name)")
            let file = try GGUFFile(url: try Fixtures.url("gguf/\(name)"))
            let metadata = try file.metadataKeys.map { key in (key: key, value: try XCTUnwrap(file.metadata[key])) }
            let tensors = try file.tensorInfos.map { info in
                GGUFTensorData(name: info.name, shape: info.shape, type: info.type, bytes: try file.withBytes(of: info.name) { Array($0) })
            }
            let rewritten = try GGUFWriter.data(metadata: metadata, tensors: tensors, alignment: file.alignment)
            XCTAssertEqual(rewritten.count, original.count, name)
            XCTAssertTrue(rewritten == original, "\(name) differs from gguf-py's bytes")
        }
    }

    func testEncodeAndReadBack() throws {
        let values = (0..<64).map { Float($0) / 8 - 4 }
        let tensor = Tensor(shape: [2, 32], values: values)
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("t.gguf")
        let types: [GGMLType] = [.F32, .F16, .BF16, .Q8_0, .Q4_0, .Q4_1]
        try GGUFWriter.write(metadata: [(key: "general.architecture", value: .string("llama")),
                                        (key: "nested", value: .array([.array([.int32(1)]), .array([.int32(2), .int32(3)])]))],
                             tensors: try types.map { try GGUFTensorData(name: "t.\($0.name)", tensor: tensor, as: $0) }, to: url)
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.metadata["nested"]?.arrayValue?.compactMap(\.intArray), [[1], [2, 3]])
        for type in types {
            let back = try file.tensor("t.\(type.name)")
            XCTAssertEqual(back.shape, [2, 32])
            // Lossless types are exact (these values are representable in f16/bf16); 4-bit codes are within half a
            // step (d/2 = range/30 for Q4_1, max/16 for Q4_0), Q8_0 within max/254.
            let tolerance: Float = [.Q8_0: 4.0 / 254 + 1e-3, .Q4_0: 4.0 / 16 + 1e-3, .Q4_1: 8.0 / 30 + 1e-2][type] ?? 0
            XCTAssertLessThanOrEqual(maxAbsDiff(back.floats(), values), tolerance, type.name)
        }
        assertFormatError(try GGUFWriter.data(metadata: [(key: "e", value: .array([]))], tensors: []), contains: ["'e'", "empty"])
        assertFormatError(try GGUFTensorData(name: "odd", tensor: Tensor(zeros: [3, 5]), as: .Q8_0), contains: ["'odd'", "multiple of 32"])
    }
}
