// Gemma 2 through merge and GGUF export: the four norms per layer survive both under their own names, the GGUF
// carries llama.cpp's gemma2 names (post_attention_norm, ffn_norm, post_ffw_norm), norm weights as 1 + w, the caps,
// window and attention scale, and each output is self-checked against base + adapter (read back through Tailor).
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import XCTest

final class Gemma2ExportTests: XCTestCase {
    static let fixture = ExportFixtures.tinyModel("tiny-gemma2")

    func testMergeAndGGUFExportKeepTheGemmaNorms() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let merged = try ExportFixtures.mergedWithInitAdapter(Self.fixture, in: temp)
        let folder = try ModelCheckpoint.load(from: merged, eager: false)
        XCTAssertEqual(folder.config.modelType, "gemma2")
        XCTAssertEqual(folder.config.finalLogitSoftCap, 3)
        XCTAssertEqual(folder.config.queryPreAttentionScalar, 24)
        for name in ["pre_feedforward_layernorm", "post_attention_layernorm", "post_feedforward_layernorm"] {
            XCTAssertEqual(folder.tensorShapes["model.layers.1.\(name).weight"], [64], name)
        }

        let out = temp.appendingPathComponent("g2.gguf")
        let file = try ExportFixtures.exportedF32GGUF(merged, to: out)
        XCTAssertEqual(file.metadata["general.architecture"], .string("gemma2"))
        XCTAssertEqual(file.metadata["gemma2.attention.key_length"], .uint32(32))
        XCTAssertEqual(file.metadata["gemma2.attention.sliding_window"], .uint32(4))
        XCTAssertEqual(file.metadata["gemma2.attn_logit_softcapping"], .float32(4))
        XCTAssertEqual(file.metadata["gemma2.final_logit_softcapping"], .float32(3))
        XCTAssertEqual(file.metadata["gemma2.attention.scale"], .float32(Float(1 / Double(24).squareRoot())))
        for name in ["post_attention_norm", "ffn_norm", "post_ffw_norm", "attn_norm"] {
            XCTAssertEqual(file.info("blk.0.\(name).weight")?.type, .F32, name)
        }
        XCTAssertNil(file.info("output.weight"), "tied output is omitted")
        // llama.cpp multiplies by the stored norm weight: 1 + w.
        let w = try folder.tensor("model.layers.0.post_feedforward_layernorm.weight").floats()
        XCTAssertEqual(try file.tensor("blk.0.post_ffw_norm.weight").floats(), w.map { $0 + 1 })
    }

    /// llama.cpp's gemma2 takes the score scale from head_dim (hidden / heads for the 46-layer 27B) and reads no key:
    /// a model that follows that rule gets no attention.scale key, and reading such a file applies the rule.
    func testAttentionScaleKeyOnlyWhereLlamaCppsRuleDiffers() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let loaded = try LoadedModel.load(from: Self.fixture)
        var config = loaded.checkpoint.config
        config.queryPreAttentionScalar = 32   // tiny-gemma2's head_dim
        let out = temp.appendingPathComponent("rule.gguf")
        try GGUFExport.write(weights: loaded.model.weights, config: config, precision: .f32, name: "rule", tokenizer: [], to: out)
        let file = try GGUFFile(url: out)
        XCTAssertNil(file.metadata["gemma2.attention.scale"])
        XCTAssertEqual(try ModelConfig(gguf: file).queryPreAttentionScalar, 32)
        config.layerCount = 46
        XCTAssertEqual(try GGUFExport.metadata(config: config, precision: .f32, name: "x", tokenizer: [])
                        .first { $0.key == "gemma2.attention.scale" }?.value, .float32(Float(1 / Double(32).squareRoot())),
                       "the 27B rule is hidden / heads = 16, so a head_dim of 32 needs the key")
    }
}
