// Phi-3 through merge and GGUF export: the fused qkv_proj and gate_up_proj adapters merge into the fused weights,
// the GGUF carries llama.cpp's phi3 names (attn_qkv, ffn_up with gate and up rows) and LongRoPE keys and factor
// tensors, and each output is self-checked against base + adapter.
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import XCTest

final class Phi3ExportTests: XCTestCase {
    static let fixture = ExportFixtures.tinyModel("tiny-phi3")

    func testMergeAndGGUFExportKeepTheFusedLayersAndLongRoPE() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let merged = try ExportFixtures.mergedWithInitAdapter(Self.fixture, in: temp)
        let folder = try ModelCheckpoint.load(from: merged, eager: false)
        XCTAssertEqual(folder.config.modelType, "phi3")
        XCTAssertEqual(folder.config.ropeScaling, try ModelConfig.load(from: Self.fixture.appendingPathComponent("config.json")).ropeScaling)
        XCTAssertEqual(folder.tensorShapes["model.layers.1.self_attn.qkv_proj.weight"], [64 + 2 * 32, 64])
        XCTAssertEqual(folder.tensorShapes["model.layers.0.mlp.gate_up_proj.weight"], [256, 64])
        XCTAssertNil(folder.tensorShapes["model.layers.0.self_attn.q_proj.weight"])

        let out = temp.appendingPathComponent("phi3.gguf")
        let file = try ExportFixtures.exportedF32GGUF(merged, to: out)
        XCTAssertEqual(file.metadata["general.architecture"], .string("phi3"))
        XCTAssertEqual(file.metadata["phi3.rope.scaling.original_context_length"], .uint32(8))
        XCTAssertEqual(file.metadata["phi3.attention.sliding_window"], .uint32(0))
        XCTAssertNotNil(file.metadata["phi3.rope.scaling.attn_factor"])
        XCTAssertEqual(file.info("rope_factors_long.weight")?.dims, [8])
        XCTAssertEqual(file.info("rope_factors_short.weight")?.dims, [8])
        XCTAssertEqual(file.info("blk.0.attn_qkv.weight")?.dims, [64, 128])
        XCTAssertEqual(file.info("blk.1.ffn_up.weight")?.dims, [64, 256])
        XCTAssertNil(file.info("blk.0.ffn_gate.weight"), "gate rows live in ffn_up")
        XCTAssertNotNil(file.info("output.weight"), "Phi-3's head is untied")
        // Read back by Tailor (whose logits the export check above compared): LongRoPE with the file's f32 attention factor.
        guard case .longRoPE(_, _, 8, nil, let attention?) = try ModelConfig(gguf: file).ropeScaling else {
            return XCTFail("LongRoPE not read back from the export")
        }
        XCTAssertEqual(attention, folder.config.ropeAttentionScaling, accuracy: 1e-6)
    }
}
