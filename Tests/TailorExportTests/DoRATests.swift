// DoRA adapters (PEFT use_dora) against PEFT: merged weights vs merge_and_unload, unmerged logits vs PeftModel, the
// QLoRA base, and the named errors (soup, GGUF LoRA, training). Fixtures from tools/reference/export_dora.py.
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import TailorTensor
import XCTest

final class DoRATests: XCTestCase {
    var adapterURL: URL { get throws { try ExportFixtures.root.appendingPathComponent("tiny-llama-dora/adapter") } }

    func testDoRAAdapterLoadsWithMagnitudes() throws {
        let base = try LoadedModel.load(from: ExportFixtures.base("tiny-llama"))
        let adapter = try LoadedAdapter(directory: adapterURL, base: base.model.weights)
        XCTAssertTrue(adapter.configuration.useDoRA)
        XCTAssertEqual(adapter.adapters.count, 14)
        for (module, lora) in adapter.adapters {
            let magnitude = try XCTUnwrap(lora.magnitude, module)
            XCTAssertEqual(magnitude.shape, [lora.b.shape[0]], module)
            let norm = try XCTUnwrap(lora.weightNorm, module).floats()
            // The fixture moved m away from ‖W + s·B·A‖ (PEFT's init): DoRA is not a no-op here.
            XCTAssertGreaterThan(zip(magnitude.floats(), norm).map { abs($0 / $1 - 1) }.max() ?? 0, 0.05, module)
        }
        let attached = try base.applyingAdapter(at: adapterURL)
        XCTAssertEqual(attached.model.weights.doraModules.count, 14)
    }

    func testMergedWeightsEqualPEFTMergeAndUnload() throws {
        let base = try LoadedModel.load(from: ExportFixtures.base("tiny-llama"))
        let adapter = try LoadedAdapter(directory: adapterURL, base: base.model.weights)
        let (merged, _) = try LoRAMerge.merge(base.model.weights, adapters: [WeightedAdapters(adapters: adapter.adapters, source: "dora")], dtype: .f32)
        let expected = try SafeTensorsFile(url: ExportFixtures.root.appendingPathComponent("tiny-llama-dora/peft_merged.safetensors"))
        let ours = LoRAMerge.stateDict(merged, configuration: base.model.configuration)
        XCTAssertEqual(Set(ours.map(\.0)), Set(expected.names))
        var worst: Float = 0
        for (name, tensor) in ours {
            let reference = try expected.tensor(name).floats()
            let scale = reference.reduce(Float(0)) { max($0, abs($1)) }
            let diff = zip(tensor.floats(), reference).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            // f32 throughout; PEFT's torch norm and matmul sum in another order than our f64 norm and in-order rank
            // sum: a few f32 ulps of the largest weight.
            XCTAssertLessThanOrEqual(diff / scale, 1e-6, name)
            worst = max(worst, diff / scale)
        }
        print("DoRA merge vs PEFT merge_and_unload: max relative difference \(worst)")
        let basic = LoRAMerge.stateDict(try LoRAMerge.merge(base.model.weights, adapters: [], dtype: .f32).weights,
                                        configuration: base.model.configuration)
        let q = try XCTUnwrap(basic.first { $0.0 == "model.layers.0.self_attn.q_proj.weight" }).1.floats()
        let mq = try XCTUnwrap(ours.first { $0.0 == "model.layers.0.self_attn.q_proj.weight" }).1.floats()
        XCTAssertGreaterThan(zip(q, mq).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }, 1e-3, "the merge changes the weights")
    }

    func testUnmergedDoRALogitsEqualPEFT() throws {
        let model = try LoadedModel.load(from: ExportFixtures.base("tiny-llama")).applyingAdapter(at: adapterURL)
        let reference = try ExportFixtures.logits("tiny-llama-dora/reference_logits.json")
        let plain = try LoadedModel.load(from: ExportFixtures.base("tiny-llama"))
        XCTAssertEqual(reference.sequences.count, 3)
        for (i, tokens) in reference.sequences.enumerated() {
            let diff = ExportFixtures.maxDifference(ExportFixtures.rows(model.model, tokens), reference.logits[i])
            // PeftModel in eval mode (DoRA forward, unmerged) vs ours: f32, summation order only.
            XCTAssertLessThanOrEqual(diff, 1e-4, "sequence \(i)")
            if i == 0 { print("DoRA unmerged logits vs PEFT: max |Δlogit| \(diff)") }
            XCTAssertGreaterThan(ExportFixtures.maxDifference(ExportFixtures.rows(plain.model, tokens), reference.logits[i]), 1e-2,
                                 "the adapter changes the logits")
        }
    }

    func testMergePipelineAndGGUFExportCheckDoRA() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let out = temp.appendingPathComponent("merged")
        let result = try ExportPipeline.merge(MergeRequest(base: try ExportFixtures.base("tiny-llama"), adapters: [try adapterURL],
                                                           output: out, dtype: .f32))
        // The self-check compares against the unmerged DoRA forward.
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.check).maxLogitDifference, 1e-4)
        let merged = try LoadedModel.load(from: out)
        let reference = try ExportFixtures.logits("tiny-llama-dora/reference_logits.json")
        for (i, tokens) in reference.sequences.enumerated() {
            XCTAssertLessThanOrEqual(ExportFixtures.maxDifference(ExportFixtures.rows(merged.model, tokens), reference.logits[i]), 1e-4)
        }
        let gguf = try ExportPipeline.exportGGUF(GGUFExportRequest(base: try ExportFixtures.base("tiny-llama"), adapter: try adapterURL,
                                                                   output: temp.appendingPathComponent("m.gguf"), precision: .f32))
        XCTAssertLessThanOrEqual(try XCTUnwrap(gguf.check).maxLogitDifference, 1e-4)
    }

    /// PEFT on a bitsandbytes NF4 base takes the norm of the dequantized weight; Tailor's forward and merge dequantize
    /// too. (The reference runs PEFT on bitsandbytes' dequantization of the 4-bit file: see export_dora.py.)
    func testQLoRABaseMergesIntoDequantizedWeights() throws {
        let base = try ExportFixtures.root.appendingPathComponent("qlora-tiny-llama/model-4bit")
        let entry = try ExportFixtures.field("tiny-llama-dora/reference_logits.json", key: "qlora", "logits")
        guard entry != nil else { throw XCTSkip("no bitsandbytes reference was recorded") }
        let reference = try ExportFixtures.logits("tiny-llama-dora/reference_logits.json", key: "qlora")
        let unmerged = try LoadedModel.load(from: base).applyingAdapter(at: adapterURL)
        for (i, tokens) in reference.sequences.enumerated() {
            let diff = ExportFixtures.maxDifference(ExportFixtures.rows(unmerged.model, tokens), reference.logits[i])
            // Same NF4 dequantization (bit-exact, spec §1.3) and f32 compute: summation order only.
            XCTAssertLessThanOrEqual(diff, 1e-4, "sequence \(i)")
            if i == 0 { print("DoRA on the NF4 base vs PEFT+bitsandbytes: max |Δlogit| \(diff)") }
        }
        let out = try ExportFixtures.temporaryFolder(self).appendingPathComponent("merged")
        let result = try ExportPipeline.merge(MergeRequest(base: base, adapters: [try adapterURL], output: out, dtype: .f32))
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.check).maxLogitDifference, 1e-4)
        let merged = try LoadedModel.load(from: out)
        for (i, tokens) in reference.sequences.enumerated() {
            XCTAssertLessThanOrEqual(ExportFixtures.maxDifference(ExportFixtures.rows(merged.model, tokens), reference.logits[i]), 1e-4)
        }
        XCTAssertFalse(try String(contentsOf: out.appendingPathComponent("config.json"), encoding: .utf8).contains("quantization_config"))
    }

    func testDoRANamedErrors() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let baseURL = try ExportFixtures.base("tiny-llama")
        // A soup mixing DoRA adapters.
        XCTAssertThrowsError(try ExportPipeline.merge(MergeRequest(base: baseURL, adapters: [try adapterURL, try ExportFixtures.adapter("tiny-llama")],
                                                                   output: temp.appendingPathComponent("soup"), dtype: .f32))) { error in
            guard case ExportError.unsupported(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("DoRA") && m.contains("soup"), m)
        }
        // A GGUF LoRA cannot hold the magnitudes.
        XCTAssertThrowsError(try ExportPipeline.exportGGUF(GGUFExportRequest(base: baseURL, adapter: try adapterURL,
                                                                             output: temp.appendingPathComponent("a.gguf"), loraOnly: true))) { error in
            guard case ExportError.unsupported(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("--lora-only"), m)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temp.path), [], "nothing written")
        // Training DoRA is refused with a named error.
        var weights = try LoadedModel.load(from: baseURL).model.weights
        XCTAssertThrowsError(try weights.attachLoRA(LoRAConfiguration(r: 4, useDoRA: true), seed: 1)) { error in
            XCTAssertEqual(error as? LoRAError, .doraTraining(module: nil))
            XCTAssertTrue("\(error)".contains("use_dora"), "\(error)")
        }
    }

    func testSavedDoRAAdapterRoundTrips() throws {
        let base = try LoadedModel.load(from: ExportFixtures.base("tiny-llama"))
        let attached = try base.applyingAdapter(at: adapterURL)
        let out = try ExportFixtures.temporaryFolder(self).appendingPathComponent("saved")
        try PEFTAdapter.save(attached.model.weights, config: LoRAConfiguration(r: 4, loraAlpha: 8, useDoRA: true), to: out)
        let names = try SafeTensorsFile(url: out.appendingPathComponent("adapter_model.safetensors")).names
        XCTAssertTrue(names.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector"))
        let again = try base.applyingAdapter(at: out)
        let tokens: [Int32] = [1, 17, 42, 99]
        XCTAssertEqual(ExportFixtures.maxDifference(ExportFixtures.rows(again.model, tokens), ExportFixtures.rows(attached.model, tokens)), 0)
    }
}
