// Merged weights against PEFT's merge_and_unload, and Tailor's merged folders against transformers' view of them
// (fixtures from tools/reference/export_fixtures.py).
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import TailorTensor
import XCTest

final class MergeParityTests: XCTestCase {
    static let models = ["tiny-llama", "tiny-qwen2"]

    func testMergedWeightsEqualPEFTMergeAndUnload() throws {
        for model in Self.models {
            let base = try LoadedModel.load(from: ExportFixtures.base(model))
            let adapter = try LoadedAdapter(directory: ExportFixtures.adapter(model), base: base.model.weights)
            XCTAssertEqual(adapter.adapters.count, 14, model)
            let (merged, _) = try LoRAMerge.merge(base.model.weights, adapters: [WeightedAdapters(adapters: adapter.adapters, source: model)], dtype: .f32)
            let expected = try SafeTensorsFile(url: ExportFixtures.root.appendingPathComponent(model).appendingPathComponent("peft_merged.safetensors"))
            let ours = LoRAMerge.stateDict(merged, configuration: base.model.configuration)
            XCTAssertEqual(Set(ours.map(\.0)), Set(expected.names), "\(model): tensor names (tied head omitted)")
            for (name, tensor) in ours {
                let reference = try expected.tensor(name).floats()
                let diff = zip(tensor.floats(), reference).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                // PEFT sums B·A with torch's f32 matmul, we sum over the rank in order: ≤ a few f32 ulps of |W| ~ 0.1.
                XCTAssertLessThanOrEqual(diff, 1e-6, "\(model): \(name)")
            }
            for layer in merged.layers {
                for slot in LinearSlot.allCases { XCTAssertNil(layer[linear: slot]?.lora, "no adapter survives the merge") }
            }
        }
    }

    func testTransformersLoadsTailorsMergedFolderWithTailorsLogits() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        for model in Self.models {
            for (dtypeName, dtype, tolerance) in [("f32", DType.f32, Float(1e-4)), ("bf16", DType.bf16, Float(1e-2))] {
                let out = temp.appendingPathComponent("\(model)-\(dtypeName)")
                let result = try ExportPipeline.merge(MergeRequest(base: try ExportFixtures.base(model), adapters: [try ExportFixtures.adapter(model)],
                                                                   output: out, dtype: dtype))
                XCTAssertEqual(result.check?.sequences, 3)
                let config = try ModelConfig.load(from: out.appendingPathComponent("config.json"))
                XCTAssertEqual(config.torchDtype, dtype == .f32 ? "float32" : "bfloat16")
                let loaded = try LoadedModel.load(from: out)
                XCTAssertEqual(loaded.model.weights.lmHead == nil, model == "tiny-qwen2", "tied embeddings stay tied")
                // transformers' logits of the folder Tailor wrote (recorded by the reference script).
                let reference = try ExportFixtures.logits("transformers_check.json", key: "\(model)-\(dtypeName)")
                XCTAssertEqual(reference.logits.count, 3)
                XCTAssertEqual(try ExportFixtures.field("transformers_check.json", key: "\(model)-\(dtypeName)", "dtype") as? String,
                               dtype == .f32 ? "torch.float32" : "torch.bfloat16", "transformers loads the folder in its dtype")
                for (i, tokens) in reference.sequences.enumerated() {
                    let ours = ExportFixtures.rows(loaded.model, tokens)
                    // f32: only summation order differs. bf16: transformers loaded the bf16 weights (dtype recorded
                    // below) and the script ran them with f32 compute, as Tailor does; 1e-2 covers summation order
                    // over O(1) logits. (transformers' native bf16 compute differs from either by ~0.14, recorded.)
                    let diff = ExportFixtures.maxDifference(ours, reference.logits[i])
                    XCTAssertLessThanOrEqual(diff, tolerance, "\(model) \(dtypeName) sequence \(i)")
                    if i == 0 { print("Tailor vs transformers on Tailor's \(model) \(dtypeName) folder: max |Δlogit| \(diff)") }
                }
            }
        }
    }

    func testMergedF32EqualsPEFTBasePlusAdapterLogits() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        for model in Self.models {
            let out = temp.appendingPathComponent(model)
            _ = try ExportPipeline.merge(MergeRequest(base: try ExportFixtures.base(model), adapters: [try ExportFixtures.adapter(model)],
                                                      output: out, dtype: .f32))
            let loaded = try LoadedModel.load(from: out)
            let reference = try ExportFixtures.logits("\(model)/reference_logits.json")
            for (i, tokens) in reference.sequences.enumerated() {
                // PeftModel (unmerged, eval mode) vs our merged f32 weights: summation order only.
                XCTAssertLessThanOrEqual(ExportFixtures.maxDifference(ExportFixtures.rows(loaded.model, tokens), reference.logits[i]), 1e-4, model)
            }
        }
    }

    func testQLoRABaseIsDequantizedNotRequantized() throws {
        let base = try ExportFixtures.root.appendingPathComponent("qlora-tiny-llama/model-4bit")
        let out = try ExportFixtures.temporaryFolder(self).appendingPathComponent("merged")
        let result = try ExportPipeline.merge(MergeRequest(base: base, adapters: [try ExportFixtures.adapter("tiny-llama")], output: out, dtype: .f32))
        // Reference = 4-bit base with the adapter unmerged; the merged f32 folder must reproduce it.
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.check).maxLogitDifference, 1e-4)
        let text = try String(contentsOf: out.appendingPathComponent("config.json"), encoding: .utf8)
        XCTAssertFalse(text.contains("quantization_config"))
        let file = try SafeTensorsFile(url: out.appendingPathComponent("model.safetensors"))
        XCTAssertFalse(file.names.contains { $0.contains("absmax") || $0.contains("quant_state") })
        XCTAssertEqual(file.info("model.layers.0.self_attn.q_proj.weight")?.shape, [64, 64])
    }
}
