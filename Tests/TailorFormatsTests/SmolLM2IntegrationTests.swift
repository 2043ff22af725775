// Loads the real SmolLM2-135M-Instruct Q4_1 GGUF (skipped unless TAILOR_SMOLLM2_GGUF points at it).
import Foundation
import TailorFormats
import TailorTensor
import XCTest

final class SmolLM2IntegrationTests: XCTestCase {
    private func smolURL() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("set TAILOR_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf")
        }
        return URL(fileURLWithPath: path)
    }

    func testGGUFLayoutAndMetadata() throws {
        let file = try GGUFFile(url: try smolURL())
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.tensorInfos.count, 272)
        XCTAssertEqual(file.dataOffset, 1_785_664)
        XCTAssertEqual(file.info("token_embd.weight")?.typeName, "Q8_0")
        XCTAssertEqual(file.info("token_embd.weight")?.shape, [49152, 576])
        let counts = Dictionary(grouping: file.tensorInfos, by: \.typeName).mapValues(\.count)
        XCTAssertEqual(counts, ["Q4_1": 210, "Q8_0": 1, "F32": 61])
        XCTAssertEqual(file.metadata["tokenizer.ggml.model"]?.stringValue, "gpt2")
        XCTAssertEqual(file.metadata["tokenizer.ggml.pre"]?.stringValue, "smollm")
        XCTAssertEqual(file.metadata["tokenizer.ggml.tokens"]?.stringArray?.count, 49152)
        XCTAssertEqual(file.metadata["tokenizer.ggml.merges"]?.stringArray?.first, "Ġ t")
        XCTAssertEqual(file.metadata["tokenizer.ggml.merges"]?.arrayValue?.count, 48900)
        XCTAssertEqual(file.metadata["tokenizer.ggml.add_bos_token"]?.boolValue, false)
        XCTAssertTrue(file.metadata["tokenizer.chat_template"]?.stringValue?.hasPrefix("{% for message in messages %}") ?? false)
    }

    /// llama.cpp (C++) wrote this file; Tailor's writer, given the same contents, reproduces it exactly.
    func testRewriteIsByteIdentical() throws {
        let url = try smolURL()
        let file = try GGUFFile(url: url)
        let metadata = try file.metadataKeys.map { key in (key: key, value: try XCTUnwrap(file.metadata[key])) }
        let tensors = try file.tensorInfos.map { info in
            GGUFTensorData(name: info.name, shape: info.shape, type: info.type, bytes: try file.withBytes(of: info.name) { Array($0) })
        }
        let rewritten = try GGUFWriter.data(metadata: metadata, tensors: tensors, alignment: file.alignment)
        let original = try Data(contentsOf: url, options: .alwaysMapped)
        XCTAssertEqual(rewritten.count, original.count)
        XCTAssertTrue(rewritten == original)
    }

    func testCheckpointConfigMatchesSpec() throws {
        let url = try smolURL()
        let start = Date()
        let checkpoint = try ModelCheckpoint.load(from: url)
        let seconds = Date().timeIntervalSince(start)
        print("SmolLM2 GGUF load: \(String(format: "%.3f", seconds)) s")
        let c = checkpoint.config
        XCTAssertEqual(c.modelType, "llama")
        XCTAssertEqual(c.architectures, ["LlamaForCausalLM"])
        XCTAssertEqual(c.hiddenSize, 576)
        XCTAssertEqual(c.layerCount, 30)
        XCTAssertEqual(c.headCount, 9)
        XCTAssertEqual(c.kvHeadCount, 3)
        XCTAssertEqual(c.headDim, 64)
        XCTAssertEqual(c.intermediateSize, 1536)
        XCTAssertEqual(c.vocabSize, 49152)
        XCTAssertEqual(c.maxPositionEmbeddings, 8192)
        XCTAssertEqual(c.ropeTheta, 100000)
        XCTAssertNil(c.ropeScaling)
        XCTAssertEqual(c.rmsNormEps, 1e-5)
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertFalse(c.qkvBias)
        XCTAssertFalse(c.mlpBias)
        XCTAssertEqual(c.bosTokenID, 1)
        XCTAssertEqual(c.eosTokenIDs, [2])
        XCTAssertEqual(c.padTokenID, 2)
        XCTAssertNil(checkpoint.tensors["lm_head.weight"])
        XCTAssertEqual(checkpoint.parameterCount, 134_515_008)
        XCTAssertEqual(checkpoint.tensors["model.embed_tokens.weight"]?.shape, [49152, 576])
        XCTAssertEqual(checkpoint.tensors["model.layers.0.self_attn.k_proj.weight"]?.shape, [192, 576])
        XCTAssertEqual(checkpoint.summaries.count, 272)
        XCTAssertEqual(checkpoint.format, .gguf(fileType: 3))
    }
}
