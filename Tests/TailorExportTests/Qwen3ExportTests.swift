// Qwen3 through merge and GGUF export: q_norm/k_norm survive both, the GGUF carries llama.cpp's qwen3 keys and
// names (attn_q_norm, attn_k_norm, key_length 32), and each output is self-checked against base + adapter.
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import XCTest

final class Qwen3ExportTests: XCTestCase {
    static let fixture = ExportFixtures.tinyModel("tiny-qwen3")

    func testMergeAndGGUFExportKeepTheHeadNorms() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let merged = try ExportFixtures.mergedWithInitAdapter(Self.fixture, in: temp)
        let folder = try ModelCheckpoint.load(from: merged, eager: false)
        XCTAssertEqual(folder.config.modelType, "qwen3")
        XCTAssertEqual(folder.tensorShapes["model.layers.1.self_attn.k_norm.weight"], [32])

        let out = temp.appendingPathComponent("q3.gguf")
        let file = try ExportFixtures.exportedF32GGUF(merged, to: out)
        XCTAssertEqual(file.metadata["general.architecture"], .string("qwen3"))
        XCTAssertEqual(file.metadata["qwen3.attention.key_length"], .uint32(32))
        XCTAssertEqual(file.info("blk.0.attn_q_norm.weight")?.dims, [32])
        XCTAssertEqual(file.info("blk.1.attn_k_norm.weight")?.type, .F32)
        XCTAssertNil(file.info("output.weight"), "tied output is omitted")
        XCTAssertNil(file.info("blk.0.attn_q.bias"), "Qwen3 has no q/k/v biases")
    }
}
