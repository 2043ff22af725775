// Gemma 3 through merge and GGUF export: q_norm/k_norm and the four norms per layer survive both, the GGUF carries
// llama.cpp's gemma3 names and keys (attn_q_norm as 1 + w, the global RoPE base and its linear scaling, the local
// base, the window, no caps), and each output is self-checked against base + adapter (read back through Tailor).
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import XCTest

final class Gemma3ExportTests: XCTestCase {
    static let fixture = ExportFixtures.tinyModel("tiny-gemma3")

    func testMergeAndGGUFExportKeepTheGemma3Norms() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let merged = try ExportFixtures.mergedWithInitAdapter(Self.fixture, in: temp)
        let folder = try ModelCheckpoint.load(from: merged, eager: false)
        XCTAssertEqual(folder.config.modelType, "gemma3_text")
        XCTAssertEqual(folder.config.localRopeTheta, 10000)
        XCTAssertEqual(folder.tensorShapes["model.layers.5.self_attn.q_norm.weight"], [32])
        XCTAssertEqual(folder.config.queryPreAttentionScalar, 24)
        for name in ["pre_feedforward_layernorm", "post_attention_layernorm", "post_feedforward_layernorm"] {
            XCTAssertEqual(folder.tensorShapes["model.layers.1.\(name).weight"], [64], name)
        }

        let out = temp.appendingPathComponent("g3.gguf")
        let file = try ExportFixtures.exportedF32GGUF(merged, to: out)
        XCTAssertEqual(file.metadata["general.architecture"], .string("gemma3"))
        XCTAssertEqual(file.metadata["gemma3.attention.key_length"], .uint32(32))
        XCTAssertEqual(file.metadata["gemma3.attention.sliding_window"], .uint32(4))
        XCTAssertNil(file.metadata["gemma3.attn_logit_softcapping"])
        XCTAssertEqual(file.metadata["gemma3.rope.freq_base"], .float32(1_000_000))
        XCTAssertEqual(file.metadata["gemma3.rope.freq_base_swa"], .float32(10000))
        XCTAssertEqual(file.metadata["gemma3.rope.scaling.type"], .string("linear"))
        XCTAssertEqual(file.metadata["gemma3.attention.scale"], .float32(Float(1 / Double(24).squareRoot())))
        for name in ["post_attention_norm", "ffn_norm", "post_ffw_norm", "attn_norm", "attn_q_norm", "attn_k_norm"] {
            XCTAssertEqual(file.info("blk.0.\(name).weight")?.type, .F32, name)
        }
        XCTAssertNil(file.info("output.weight"), "tied output is omitted")
        // llama.cpp multiplies by the stored norm weight: 1 + w.
        let w = try folder.tensor("model.layers.0.self_attn.k_norm.weight").floats()
        XCTAssertEqual(try file.tensor("blk.0.attn_k_norm.weight").floats(), w.map { $0 + 1 })
    }
}
