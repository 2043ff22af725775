// GGUF export: the whole tensor set against gguf-py's encoding (fixtures from tools/reference/export_fixtures.py),
// metadata keys, tied output, the LoRA adapter file, and the self-check.
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import TailorTensor
import XCTest

final class GGUFExportTests: XCTestCase {
    /// Tailor's merged f32 folder (the input gguf-py encoded), exported without adapter, equals gguf-py bit for bit.
    func testTensorSetEqualsGGUFPy() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        for model in ["tiny-llama", "tiny-qwen2"] {
            let merged = temp.appendingPathComponent("\(model)-f32")
            _ = try ExportPipeline.merge(MergeRequest(base: try ExportFixtures.base(model), adapters: [try ExportFixtures.adapter(model)],
                                                      output: merged, dtype: .f32))
            for type in ["q8_0", "q4_0"] {
                let out = temp.appendingPathComponent("\(model)-\(type).gguf")
                let result = try ExportPipeline.exportGGUF(GGUFExportRequest(base: merged, output: out, precision: try GGUFExport.precision(named: type)))
                XCTAssertNotNil(result.check)
                let ours = try GGUFFile(url: out)
                let expected = try GGUFFile(url: ExportFixtures.root.appendingPathComponent("\(model)/expected-\(type).gguf"))
                XCTAssertEqual(Set(ours.tensorInfos.map(\.name)), Set(expected.tensorInfos.map(\.name)), "\(model) \(type)")
                XCTAssertEqual(ours.info("output.weight") == nil, model == "tiny-qwen2", "tied output is omitted")
                for info in expected.tensorInfos {
                    let mine = try XCTUnwrap(ours.info(info.name), info.name)
                    XCTAssertEqual(mine.type, info.type, "\(model) \(type) \(info.name)")
                    XCTAssertEqual(mine.dims, info.dims, "\(model) \(type) \(info.name)")
                    let a = try ours.withBytes(of: info.name) { Array($0) }
                    let b = try expected.withBytes(of: info.name) { Array($0) }
                    XCTAssertTrue(a == b, "\(model) \(type) \(info.name): bytes differ from gguf-py")
                }
            }
        }
    }

    func testMetadataKeys() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let out = temp.appendingPathComponent("m.gguf")
        let result = try ExportPipeline.exportGGUF(GGUFExportRequest(base: try ExportFixtures.base("tiny-llama"), adapter: try ExportFixtures.adapter("tiny-llama"),
                                                                     output: out, precision: .q8_0))
        let check = try XCTUnwrap(result.check)
        XCTAssertTrue(ExportCheck.passes(check, precision: .q8_0), check.summary)
        XCTAssertGreaterThan(check.topOneAgreement, 0.9)
        let file = try GGUFFile(url: out)
        XCTAssertEqual(file.metadataKeys.first, "general.architecture")
        XCTAssertEqual(file.metadata["general.file_type"], .uint32(7))
        XCTAssertEqual(file.metadata["general.quantization_version"], .uint32(2))
        XCTAssertEqual(file.metadata["llama.attention.head_count_kv"], .uint32(2))
        XCTAssertEqual(file.metadata["llama.rope.dimension_count"], .uint32(16))
        XCTAssertEqual(file.metadata["llama.attention.layer_norm_rms_epsilon"], .float32(1e-5))
        XCTAssertEqual(file.info("blk.0.attn_norm.weight")?.type, .F32)
        XCTAssertEqual(file.info("blk.0.attn_q.weight")?.type, .Q8_0)
        // Reading back un-permutes q/k: the model Tailor reads equals base + adapter within Q8_0 precision (checked
        // above); f32 must agree to summation order.
        let f32 = temp.appendingPathComponent("f32.gguf")
        let exact = try ExportPipeline.exportGGUF(GGUFExportRequest(base: try ExportFixtures.base("tiny-llama"), adapter: try ExportFixtures.adapter("tiny-llama"),
                                                                    output: f32, precision: .f32))
        XCTAssertLessThanOrEqual(try XCTUnwrap(exact.check).maxLogitDifference, 1e-4)
        XCTAssertEqual(try XCTUnwrap(exact.check).topOneAgreement, 1)
    }

    func testLoRAOnlyFile() throws {
        let out = try ExportFixtures.temporaryFolder(self).appendingPathComponent("lora.gguf")
        let base = try ExportFixtures.base("tiny-llama"), adapterURL = try ExportFixtures.adapter("tiny-llama")
        _ = try ExportPipeline.exportGGUF(GGUFExportRequest(base: base, adapter: adapterURL, output: out, loraOnly: true))
        let file = try GGUFFile(url: out)
        XCTAssertEqual(file.metadata["general.type"], .string("adapter"))
        XCTAssertEqual(file.metadata["adapter.type"], .string("lora"))
        XCTAssertEqual(file.metadata["adapter.lora.alpha"], .float32(8))
        XCTAssertEqual(file.tensorInfos.count, 28)
        let loaded = try LoadedModel.load(from: base)
        let adapter = try LoadedAdapter(directory: adapterURL, base: loaded.model.weights)
        let q = try XCTUnwrap(adapter.adapters["model.layers.0.self_attn.q_proj"])
        XCTAssertEqual(try file.tensor("blk.0.attn_q.weight.lora_a").floats(), q.a.floats())
        // lora_B rows are permuted like the q weight (spec §4.6): un-permuting gives PEFT's B back.
        let b = try GGUFNames.unpermuteRows(try file.tensor("blk.0.attn_q.weight.lora_b"), heads: 4)
        XCTAssertEqual(b.floats(), q.b.floats())
        XCTAssertNotEqual(try file.tensor("blk.0.attn_q.weight.lora_b").floats(), q.b.floats())
        let v = try XCTUnwrap(adapter.adapters["model.layers.0.self_attn.v_proj"])
        XCTAssertEqual(try file.tensor("blk.0.attn_v.weight.lora_b").floats(), v.b.floats())
    }
}
