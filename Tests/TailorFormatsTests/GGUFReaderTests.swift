// GGUF reader against gguf-py: layout, metadata of every value type, tensors decoded and mapped to HF names.
import Foundation
import TailorFormats
import TailorTensor
import XCTest

final class GGUFReaderTests: XCTestCase {
    private func layout(_ file: String) throws -> [String: Any] {
        let all = try XCTUnwrap(try Fixtures.json("gguf/layout.json") as? [String: Any])
        return try XCTUnwrap(all[file] as? [String: Any])
    }

    func testLayoutMatchesGGUFPyReader() throws {
        for name in ["tiny_llama.gguf", "tiny_qwen2.gguf"] {
            let file = try GGUFFile(url: try Fixtures.url("gguf/\(name)"))
            XCTAssertEqual(file.version, 3)
            let expected = try XCTUnwrap(try layout(name)["tensors"] as? [[String: Any]])
            XCTAssertEqual(file.tensorInfos.map(\.name), expected.map { $0["name"] as? String ?? "" }, name)
            for (info, entry) in zip(file.tensorInfos, expected) {
                XCTAssertEqual(info.typeName, entry["type"] as? String, info.name)
                XCTAssertEqual(info.shape, entry["shape"] as? [Int], info.name)
                XCTAssertEqual(file.dataOffset + info.offset, entry["offset"] as? Int, info.name)
                XCTAssertEqual(info.byteCount, entry["bytes"] as? Int, info.name)
            }
        }
        XCTAssertEqual(try GGUFFile(url: try Fixtures.url("gguf/tiny_qwen2.gguf")).alignment, 64)
    }

    func testMetadataOfEveryValueType() throws {
        let file = try GGUFFile(url: try Fixtures.url("gguf/tiny_llama.gguf"))
        let expected = try XCTUnwrap(try layout("tiny_llama.gguf")["metadata"] as? [String: [String: Any]])
        XCTAssertEqual(Set(file.metadataKeys), Set(expected.keys))
        XCTAssertEqual(file.metadataKeys.first, "general.architecture")
        for (key, entry) in expected {
            let value = try XCTUnwrap(file.metadata[key], key)
            let type = entry["type"] as? String ?? ""
            XCTAssertTrue(value.typeName.hasPrefix(type), "\(key): \(value.typeName) vs \(type)")
            switch entry["value"] {
            case let s as String: XCTAssertEqual(value.stringValue, s, key)
            case let n as NSNumber where type == "BOOL": XCTAssertEqual(value.boolValue, n.boolValue, key)
            case let n as NSNumber where type.hasPrefix("FLOAT"):
                // gguf-py reports FLOAT32 values widened to f64; Tailor's doubleValue shortens them (0.1f → 0.1).
                XCTAssertEqual(Float(value.doubleValue ?? .nan), n.floatValue, key)
            case let n as NSNumber where type == "UINT64": XCTAssertEqual(value, .uint64(n.uint64Value), key)
            case let n as NSNumber: XCTAssertEqual(value.intValue, n.intValue, key)
            case let list as [Any] where key == "test.nested":
                // gguf-py's reader flattens nested arrays; the writer was given [[1, 2, 3], [4], [5, 6]].
                XCTAssertEqual(value.arrayValue?.compactMap(\.intArray), [[1, 2, 3], [4], [5, 6]])
                XCTAssertEqual(value.arrayValue?.flatMap { $0.intArray ?? [] }, list.compactMap { ($0 as? NSNumber)?.intValue })
            case let list as [Any]:
                if let strings = list as? [String] { XCTAssertEqual(value.stringArray, strings, key) }
                else if type == "ARRAY", key == "test.floats" { XCTAssertEqual(value.floatArray, [0.5, -1.25]) }
                else { XCTAssertEqual(value.intArray, list.compactMap { ($0 as? NSNumber)?.intValue }, key) }
            default: XCTFail("unexpected fixture value for \(key)")
            }
        }
        XCTAssertEqual(file.metadata["test.string"]?.stringValue, "héllo ✓")
        XCTAssertEqual(file.metadata["test.int8"], .int8(-100))
        XCTAssertEqual(file.metadata["llama.attention.layer_norm_rms_epsilon"]?.doubleValue, 1e-5)
    }

    private func expected(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(url: try Fixtures.url("gguf/\(name)"))
    }

    /// Tied llama: Q/K rows back in HF order, every type decoded exactly as gguf-py does, llama3 RoPE recovered.
    func testTinyLlamaCheckpoint() throws {
        let checkpoint = try ModelCheckpoint.load(from: try Fixtures.url("gguf/tiny_llama.gguf"))
        let reference = try expected("tiny_llama_expected.safetensors")
        XCTAssertEqual(Set(checkpoint.tensors.keys), Set(reference.names))
        for name in reference.names {
            let ours = try XCTUnwrap(checkpoint.tensors[name], name)
            XCTAssertEqual(ours.shape, reference.info(name)?.shape, name)
            // Exact: same decode arithmetic; permutation only moves rows.
            XCTAssertEqual(ours.floats(), try reference.tensor(name).floats(), name)
        }
        XCTAssertEqual(checkpoint.tensors["model.layers.0.mlp.up_proj.weight"]?.dtype, .f16, "F16 stays F16")
        XCTAssertEqual(checkpoint.tensors["model.layers.0.mlp.down_proj.weight"]?.dtype, .bf16, "BF16 stays BF16")
        XCTAssertNil(checkpoint.tensors["lm_head.weight"])
        let c = checkpoint.config
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(c.headDim, 16)
        XCTAssertEqual(c.headCount, 2)
        XCTAssertEqual(c.kvHeadCount, 1)
        XCTAssertEqual(c.ropeTheta, 500000)
        XCTAssertEqual(c.ropeScaling, .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192))
        XCTAssertEqual(c.maxPositionEmbeddings, 131072)
        XCTAssertTrue(c.attentionBias, "blk.0.attn_q.bias present")
        XCTAssertTrue(c.outputBias)
        XCTAssertEqual(c.bosTokenID, 1)
        XCTAssertEqual(c.eosTokenIDs, [15])
        XCTAssertEqual(checkpoint.format, .gguf(fileType: 3))
        let types = Dictionary(uniqueKeysWithValues: checkpoint.summaries.map { ($0.storedName, $0.storedType) })
        XCTAssertEqual(types["blk.0.attn_v.weight"], "Q4_K")
        XCTAssertEqual(types["blk.0.ffn_gate.weight"], "Q6_K")
        XCTAssertEqual(checkpoint.summaries.first { $0.storedName == "rope_freqs.weight" }?.name, "rope_freqs.weight")
        XCTAssertEqual(checkpoint.gguf?.metadata["tokenizer.chat_template"]?.stringValue,
                       "{% for m in messages %}{{ m['content'] }}\n{% endfor %}")
    }

    func testLazyCheckpointDecodesOnDemand() throws {
        let lazy = try ModelCheckpoint.load(from: try Fixtures.url("gguf/tiny_llama.gguf"), eager: false)
        XCTAssertTrue(lazy.tensors.isEmpty)
        let reference = try expected("tiny_llama_expected.safetensors")
        XCTAssertEqual(Set(lazy.tensorShapes.keys), Set(reference.names))
        for name in ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.bias", "model.norm.weight"] {
            XCTAssertEqual(try lazy.tensor(name).floats(), try reference.tensor(name).floats(), name)
        }
        XCTAssertEqual(lazy.parameterCount, reference.infos.reduce(0) { $0 + $1.elementCount })
        assertFormatError(try lazy.tensor("lm_head.weight"), contains: ["tiny_llama.gguf", "'lm_head.weight'"])
    }

    /// Qwen2: biases on q/k/v, untied output, no permutation.
    func testTinyQwen2Checkpoint() throws {
        let checkpoint = try ModelCheckpoint.load(from: try Fixtures.url("gguf/tiny_qwen2.gguf"))
        let reference = try expected("tiny_qwen2_expected.safetensors")
        XCTAssertEqual(Set(checkpoint.tensors.keys), Set(reference.names))
        for name in reference.names {
            XCTAssertEqual(try XCTUnwrap(checkpoint.tensors[name]).floats(), try reference.tensor(name).floats(), name)
        }
        let c = checkpoint.config
        XCTAssertEqual(c.modelType, "qwen2")
        XCTAssertEqual(c.architectures, ["Qwen2ForCausalLM"])
        XCTAssertTrue(c.qkvBias)
        XCTAssertFalse(c.outputBias)
        XCTAssertFalse(c.tieWordEmbeddings)
        XCTAssertEqual(c.ropeTheta, 1_000_000)
        XCTAssertEqual(c.ropeScaling, .linear(factor: 4))
        XCTAssertEqual(c.rmsNormEps, 1e-6)
        XCTAssertEqual(c.vocabSize, 32, "from the token list when qwen2.vocab_size is absent")
        XCTAssertEqual(c.padTokenID, 30)
        XCTAssertEqual(c.eosTokenIDs, [31])
        XCTAssertNil(c.bosTokenID)
    }

    func testPermutationRoundTripAndSpecExample() throws {
        // Spec §4.6: one head with hd = 8 → GGUF rows are HF rows [0, 4, 1, 5, 2, 6, 3, 7].
        let hf = Tensor(shape: [8, 1], values: (0..<8).map(Float.init))
        let gguf = try GGUFNames.permuteRows(hf, heads: 1)
        XCTAssertEqual(gguf.floats(), [0, 4, 1, 5, 2, 6, 3, 7])
        XCTAssertEqual(try GGUFNames.unpermuteRows(gguf, heads: 1).floats(), hf.floats())
        XCTAssertEqual(GGUFNames.hfName("blk.12.attn_k.bias"), "model.layers.12.self_attn.k_proj.bias")
        XCTAssertEqual(GGUFNames.ggufName("model.layers.12.mlp.down_proj.weight"), "blk.12.ffn_down.weight")
        XCTAssertEqual(GGUFNames.ggufName("lm_head.weight"), "output.weight")
        XCTAssertNil(GGUFNames.hfName("rope_freqs.weight"))
    }
}
