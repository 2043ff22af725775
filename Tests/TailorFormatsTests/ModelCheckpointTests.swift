// Whole-model loading: folders (single file or shards), GGUF files, and the missing/mis-shaped tensor errors.
import Foundation
import TailorFormats
import TailorTensor
import XCTest

final class ModelCheckpointTests: XCTestCase {
    func testLoadsSingleAndShardedFolders() throws {
        let single = try ModelCheckpoint.load(from: try Fixtures.url("safetensors/tiny_llama_single"))
        let sharded = try ModelCheckpoint.load(from: try Fixtures.url("safetensors/tiny_llama_sharded"))
        XCTAssertEqual(single.format, .safetensors(sharded: false))
        XCTAssertEqual(sharded.format, .safetensors(sharded: true))
        XCTAssertEqual(single.config, sharded.config)
        XCTAssertTrue(single.config.tieWordEmbeddings)
        XCTAssertNil(single.tensors["lm_head.weight"])
        XCTAssertEqual(single.tensors.count, 1 + 2 * 9 + 1)
        XCTAssertEqual(single.parameterCount, 20128, "transformers' total_parameters")
        XCTAssertEqual(single.summaries.reduce(0) { $0 + $1.byteCount }, 80512, "transformers' total_size")
        for (name, tensor) in single.tensors {
            XCTAssertEqual(tensor.floats(), sharded.tensors[name]?.floats(), name)
        }
        XCTAssertEqual(single.summaries.first { $0.name == "model.norm.weight" }?.storedType, "F32")
        let direct = try ModelCheckpoint.load(from: try Fixtures.url("safetensors/tiny_llama_single/model.safetensors"))
        XCTAssertEqual(direct.tensors.count, single.tensors.count)
    }

    /// A copy of the tiny Llama folder whose tensors went through `edit`.
    private func folder(editing edit: (inout [(name: String, tensor: Tensor)]) -> Void) throws -> TemporaryFolder {
        let source = try SafeTensorsFile(url: try Fixtures.url("safetensors/tiny_llama_single/model.safetensors"))
        var tensors = try source.names.map { (name: $0, tensor: try source.tensor($0)) }
        edit(&tensors)
        let folder = try TemporaryFolder()
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: folder.url.appendingPathComponent("model.safetensors"))
        _ = try folder.file("config.json", try Fixtures.data("safetensors/tiny_llama_single/config.json"))
        return folder
    }

    func testMissingTensor() throws {
        let folder = try folder { $0.removeAll { $0.name == "model.layers.1.self_attn.k_proj.weight" } }
        assertFormatError(try ModelCheckpoint.load(from: folder.url),
                          contains: ["model.safetensors", "missing tensor 'model.layers.1.self_attn.k_proj.weight'"])
    }

    func testMisShapedTensor() throws {
        let folder = try folder { tensors in
            if let i = tensors.firstIndex(where: { $0.name == "model.layers.0.mlp.up_proj.weight" }) {
                tensors[i].tensor = tensors[i].tensor.reshaped([32, 64])
            }
        }
        assertFormatError(try ModelCheckpoint.load(from: folder.url),
                          contains: ["model.safetensors", "'model.layers.0.mlp.up_proj.weight'", "shape [32, 64], expected [64, 32]"])
    }

    func testUnknownArchitectureInConfig() throws {
        let folder = try folder { _ in }
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: try Fixtures.data("safetensors/tiny_llama_single/config.json")) as? [String: Any])
        config["model_type"] = "falcon"
        _ = try folder.file("config.json", try JSONSerialization.data(withJSONObject: config))
        assertFormatError(try ModelCheckpoint.load(from: folder.url), contains: ["config.json", "unsupported architecture 'falcon'"])
    }

    func testFolderWithoutWeightsOrConfig() throws {
        let empty = try TemporaryFolder()
        assertFormatError(try ModelCheckpoint.load(from: empty.url), contains: ["model.safetensors", "not found"])
        let noConfig = try TemporaryFolder()
        try SafeTensorsWriter.write([(name: "x", tensor: Tensor(zeros: [1]))], metadata: nil,
                                    to: noConfig.url.appendingPathComponent("model.safetensors"))
        assertFormatError(try ModelCheckpoint.load(from: noConfig.url), contains: ["config.json", "not found"])
        assertFormatError(try ModelCheckpoint.load(from: empty.url.appendingPathComponent("x.gguf")), contains: ["x.gguf", "not found"])
    }

    func testUntiedWithoutLmHeadIsTied() throws {
        // transformers omits lm_head.weight only for tied embeddings; a file without it is read as tied (spec §3.3).
        let folder = try folder { _ in }
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: try Fixtures.data("safetensors/tiny_llama_single/config.json")) as? [String: Any])
        config["tie_word_embeddings"] = false
        _ = try folder.file("config.json", try JSONSerialization.data(withJSONObject: config))
        XCTAssertTrue(try ModelCheckpoint.load(from: folder.url).config.tieWordEmbeddings)
    }
}
