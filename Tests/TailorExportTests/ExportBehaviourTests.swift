// Precision warnings, model soups, sharding, and bad input: named errors and no partial output.
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import TailorTensor
import XCTest

final class ExportBehaviourTests: XCTestCase {
    func testTinyAdapterVanishesInBF16ButNotF32() throws {
        let base = try LoadedModel.load(from: ExportFixtures.base("tiny-llama"))
        var adapter = try LoadedAdapter(directory: ExportFixtures.adapter("tiny-llama"), base: base.model.weights)
        for (k, var lora) in adapter.adapters {
            lora.b = Tensor(shape: lora.b.shape, values: lora.b.floats().map { $0 * 1e-5 })
            adapter.adapters[k] = lora
        }
        let sets = [WeightedAdapters(adapters: adapter.adapters, source: "tiny")]
        let bf16 = try LoRAMerge.merge(base.model.weights, adapters: sets, dtype: .bf16, precision: .bf16).report
        XCTAssertGreaterThan(bf16.total.vanishedFraction, 0.9)
        XCTAssertNotNil(bf16.warning(precision: .bf16))
        let f32 = try LoRAMerge.merge(base.model.weights, adapters: sets, dtype: .f32, precision: .f32).report
        XCTAssertNil(f32.warning(precision: .f32))
        // The real (unscaled) adapter survives bf16 for the most part.
        let real = try LoRAMerge.merge(base.model.weights, adapters: [WeightedAdapters(attachedTo: try base.applyingAdapter(at: ExportFixtures.adapter("tiny-llama")).model.weights, source: "real")],
                                       dtype: .bf16, precision: .bf16).report
        XCTAssertNil(real.warning(precision: .bf16))
    }

    func testSoupOfOneAdapterTwiceEqualsPlainMerge() throws {
        let base = try LoadedModel.load(from: ExportFixtures.base("tiny-qwen2"))
        let adapter = try LoadedAdapter(directory: ExportFixtures.adapter("tiny-qwen2"), base: base.model.weights)
        let weights = try ModelSoup.normalizedWeights([1, 3], count: 2)
        XCTAssertEqual(weights, [0.25, 0.75])
        let soup = try LoRAMerge.merge(base.model.weights, adapters: ModelSoup.weightedSets([adapter, adapter], weights: weights), dtype: .f32).weights
        let plain = try LoRAMerge.merge(base.model.weights, adapters: [WeightedAdapters(adapters: adapter.adapters, source: "a")], dtype: .f32).weights
        let a = LoRAMerge.stateDict(soup, configuration: base.model.configuration)
        let b = LoRAMerge.stateDict(plain, configuration: base.model.configuration)
        for (x, y) in zip(a, b) {
            let diff = zip(x.1.floats(), y.1.floats()).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            XCTAssertLessThanOrEqual(diff, 1e-6, x.0)   // 0.25·d + 0.75·d vs d: f32 rounding only
        }
        let averaged = try XCTUnwrap(ModelSoup.averagedAdapter([adapter, adapter], weights: weights))
        XCTAssertEqual(averaged.count, adapter.adapters.count)
        XCTAssertThrowsError(try ModelSoup.normalizedWeights([1], count: 2))
        XCTAssertThrowsError(try ModelSoup.normalizedWeights([0, 0], count: 2))
    }

    func testSoupCLIPathWritesAveragedAdapterAndChecks() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let adapter = try ExportFixtures.adapter("tiny-llama")
        let result = try ExportPipeline.merge(MergeRequest(base: try ExportFixtures.base("tiny-llama"), adapters: [adapter, adapter],
                                                           weights: [1, 1], output: temp.appendingPathComponent("soup"), dtype: .f32,
                                                           averagedAdapterOutput: temp.appendingPathComponent("avg")))
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.check).maxLogitDifference, 1e-4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: temp.appendingPathComponent("avg/adapter_model.safetensors").path))
    }

    func testShardedOutputHasIndex() throws {
        let out = try ExportFixtures.temporaryFolder(self).appendingPathComponent("sharded")
        _ = try ExportPipeline.merge(MergeRequest(base: try ExportFixtures.base("tiny-llama"), adapters: [try ExportFixtures.adapter("tiny-llama")],
                                                  output: out, dtype: .f32, maxShardBytes: 100_000))
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        XCTAssertTrue(names.contains("model.safetensors.index.json"))
        XCTAssertTrue(names.contains("model-00001-of-00005.safetensors"), "\(names.sorted())")
        XCTAssertTrue(names.contains("generation_config.json"))
        _ = try LoadedModel.load(from: out)
    }

    func testBadInputsThrowNamedErrorsAndLeaveNothing() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let base = try ExportFixtures.base("tiny-llama")
        // An adapter for another model: lora_A of the wrong width.
        let foreign = temp.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: try ExportFixtures.adapter("tiny-llama").appendingPathComponent("adapter_config.json"),
                                         to: foreign.appendingPathComponent("adapter_config.json"))
        let source = try SafeTensorsFile(url: try ExportFixtures.adapter("tiny-llama").appendingPathComponent("adapter_model.safetensors"))
        let wrong = try source.names.map { name -> (name: String, tensor: Tensor) in
            let t = try source.tensor(name)
            return (name, name.contains("lora_A") ? Tensor(zeros: [t.shape[0], t.shape[1] * 2]) : t)
        }
        try SafeTensorsWriter.write(wrong, to: foreign.appendingPathComponent("adapter_model.safetensors"))
        let out = temp.appendingPathComponent("out")
        XCTAssertThrowsError(try ExportPipeline.merge(MergeRequest(base: base, adapters: [foreign], output: out))) { error in
            guard case ExportError.adapterMismatch = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("lora_A"), "\(error)")
        }
        // Missing adapter files.
        let empty = temp.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ExportPipeline.merge(MergeRequest(base: base, adapters: [empty], output: out))) { error in
            XCTAssertEqual(error as? ExportError, .missingAdapterFile(path: empty.appendingPathComponent("adapter_config.json").path))
        }
        // Unknown types.
        XCTAssertThrowsError(try GGUFExport.precision(named: "q5_k")) { XCTAssertTrue("\($0)".contains("q8_0"), "\($0)") }
        XCTAssertThrowsError(try MergedFolder.dtype(named: "int8"))
        // Unwritable output: the parent is a file.
        let file = temp.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try ExportPipeline.merge(MergeRequest(base: base, adapters: [try ExportFixtures.adapter("tiny-llama")],
                                                                   output: file.appendingPathComponent("out")))) { error in
            guard case ExportError.unwritableOutput = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ExportPipeline.exportGGUF(GGUFExportRequest(base: base, output: file.appendingPathComponent("m.gguf")))) { error in
            guard case ExportError.unwritableOutput = error else { return XCTFail("\(error)") }
        }
        // A non-empty output folder is refused.
        XCTAssertThrowsError(try ExportPipeline.merge(MergeRequest(base: base, adapters: [try ExportFixtures.adapter("tiny-llama")], output: foreign)))
        // Nothing left behind: no output, no temporary sibling.
        let left = try FileManager.default.contentsOfDirectory(atPath: temp.path).sorted()
        XCTAssertEqual(left, ["empty", "file", "foreign"])
    }
}
