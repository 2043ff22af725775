// A SentencePiece-style (Llama-2) tokenizer exported to GGUF: the tokenizer keys equal what llama.cpp's converter
// writes (fixture from tools/reference/export_sp_tokenizer.py, made with gguf-py's LlamaHfVocab + SpecialVocab), and
// the exported file tokenizes like the original folder and like transformers.
import Foundation
import TailorExport
import TailorFormats
import TailorModels
import TailorTensor
import TailorTokenizers
import XCTest

final class SentencePieceExportTests: XCTestCase {
    /// The legacy (Prepend/Replace normalizer, as Llama-2's tokenizer.json) and the Metaspace form of one tokenizer.
    static let variants = ["sp-tokenizer", "sp-tokenizer-metaspace"]

    func fixture(_ variant: String) throws -> URL { try ExportFixtures.root.appendingPathComponent(variant) }

    /// tiny-llama with its vocabulary grown to the tokenizer's 2061 tokens (extra rows seeded) and the SP tokenizer.
    func makeModel(_ variant: String) throws -> URL {
        let folder = try ExportFixtures.temporaryFolder(self).appendingPathComponent(variant)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let base = try ExportFixtures.base("tiny-llama")
        let weights = try SafeTensorsFile(url: base.appendingPathComponent("model.safetensors"))
        let vocab = variant == "sp-model" ? 800 : 2061
        var rng = SplitMix64(seed: 5)
        let tensors = try weights.names.sorted().map { name -> (name: String, tensor: Tensor) in
            let t = try weights.tensor(name).converted(to: .f32)
            guard name == "model.embed_tokens.weight" || name == "lm_head.weight" else { return (name, t) }
            let extra = (0..<((vocab - t.shape[0]) * t.shape[1])).map { _ in Float.random(in: -0.05..<0.05, using: &rng) }
            return (name, Tensor(shape: [vocab, t.shape[1]], values: t.floats() + extra))
        }
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: base.appendingPathComponent("config.json"))) as? [String: Any] ?? [:]
        config["vocab_size"] = vocab
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        for file in ["tokenizer.json", "tokenizer_config.json", "tokenizer.model", "chat_template.jinja"] {
            let source = try fixture(variant).appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: source.path) {
                try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent(file))
            }
        }
        return folder
    }

    func testExportedTokenizerKeysEqualTheConverters() throws {
        for variant in Self.variants {
            let model = try makeModel(variant)
            let out = model.deletingLastPathComponent().appendingPathComponent("m.gguf")
            let result = try ExportPipeline.exportGGUF(GGUFExportRequest(base: model, output: out, precision: .f32))
            XCTAssertLessThanOrEqual(try XCTUnwrap(result.check).maxLogitDifference, 1e-4)
            let ours = try GGUFFile(url: out)
            let expected = try GGUFFile(url: try fixture(variant).appendingPathComponent("expected-vocab.gguf"))
            let expectedKeys = expected.metadataKeys.filter { $0.hasPrefix("tokenizer.") }
            XCTAssertEqual(expectedKeys.count, 13, variant)
            for key in expectedKeys {
                XCTAssertEqual(ours.metadata[key], expected.metadata[key], "\(variant) \(key)")
            }
            // Same keys in the converter's order; Tailor adds only the merge list (ignored by llama.cpp for "llama").
            let ourKeys = ours.metadataKeys.filter { $0.hasPrefix("tokenizer.") }
            XCTAssertEqual(ourKeys.filter { $0 != "tokenizer.ggml.merges" }, expectedKeys, variant)
            guard case .array(let merges)? = ours.metadata["tokenizer.ggml.merges"] else { return XCTFail("merges missing") }
            XCTAssertEqual(merges.count, 1550)
        }
    }

    /// Tailor's GGUF reader builds "llama" vocabularies with a Metaspace pre-tokenizer (prefix "▁" on the text's first
    /// piece only). The Metaspace original must come back identical on every text; the legacy original (normalizer
    /// prefixing every piece, also after special tokens and before leading spaces) on every text where transformers
    /// gives the two forms the same ids.
    func testExportedGGUFTokenizesLikeTheFolderAndTransformers() throws {
        let metaspace = try encodings("sp-tokenizer-metaspace")
        for variant in Self.variants {
            let model = try makeModel(variant)
            let out = model.deletingLastPathComponent().appendingPathComponent("m.gguf")
            _ = try ExportPipeline.exportGGUF(GGUFExportRequest(base: model, output: out, precision: .q8_0))
            let original = try Tokenizer(directory: model)
            let exported = try LoadedModel.load(from: out).tokenizer()
            let reference = try encodings(variant)
            XCTAssertEqual(reference.count, 305)
            var compared = 0
            for ((text, ids), (_, metaspaceIDs)) in zip(reference, metaspace) {
                XCTAssertEqual(original.encode(text), ids, "\(variant) folder vs transformers: \(text)")
                guard variant == "sp-tokenizer-metaspace" || ids == metaspaceIDs else { continue }
                compared += 1
                let fromGGUF = exported.encode(text)
                XCTAssertEqual(fromGGUF, ids, "\(variant) exported GGUF vs transformers: \(text)")
                XCTAssertEqual(exported.decode(fromGGUF, skipSpecialTokens: true), original.decode(ids, skipSpecialTokens: true), text)
            }
            print("\(variant): \(compared) of \(reference.count) texts compared through the exported GGUF")
            XCTAssertGreaterThan(compared, variant == "sp-tokenizer" ? 250 : 304)
            XCTAssertEqual(exported.bosTokenID, 1)
            XCTAssertEqual(exported.eosTokenID, 2)
            XCTAssertTrue(exported.addsBOS)
            XCTAssertEqual(exported.chatTemplate, original.chatTemplate)
        }
    }

    /// `tailor merge` from a GGUF base with a "llama" vocabulary writes the tokenizer.json transformers builds from
    /// that GGUF (reference: transformers' AutoTokenizer on a GGUF with the same keys, saved) and it tokenizes alike.
    func testMergeFromSentencePieceGGUFWritesTransformersTokenizer() throws {
        for variant in Self.variants {
            let model = try makeModel(variant)
            let gguf = model.deletingLastPathComponent().appendingPathComponent("base.gguf")
            _ = try ExportPipeline.exportGGUF(GGUFExportRequest(base: model, output: gguf, precision: .f32))
            let out = model.deletingLastPathComponent().appendingPathComponent("merged")
            _ = try ExportPipeline.merge(MergeRequest(base: gguf, adapters: [try ExportFixtures.adapter("tiny-llama")], output: out, dtype: .f32))
            let ours = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("tokenizer.json"))) as? NSDictionary
            let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: try fixture(variant).appendingPathComponent("transformers-from-gguf.json"))) as? NSDictionary
            XCTAssertEqual(((reference?["model"] as? NSDictionary)?["merges"] as? NSArray)?.count, 1550)
            for key in ["normalizer", "pre_tokenizer", "post_processor", "decoder", "added_tokens", "model"] {
                let mine = try XCTUnwrap(ours?[key] as? NSObject, key), theirs = try XCTUnwrap(reference?[key] as? NSObject, key)
                XCTAssertEqual(mine, theirs, "\(variant) tokenizer.json \(key)")
            }
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("tokenizer_config.json"))) as? [String: Any]
            XCTAssertEqual(config?["bos_token"] as? String, "<s>")
            XCTAssertEqual(config?["chat_template"] as? String, try Tokenizer(directory: model).chatTemplate)
            let ids = try JSONSerialization.jsonObject(with: Data(contentsOf: try fixture(variant).appendingPathComponent("transformers-from-gguf-ids.json"))) as? [[Int]]
            let merged = try Tokenizer(directory: out)
            let texts = try encodings(variant).map(\.text)
            XCTAssertEqual(ids?.count, texts.count)
            for (text, expected) in zip(texts, ids ?? []) {
                XCTAssertEqual(merged.encode(text), expected, "\(variant) merged folder vs transformers from the GGUF: \(text)")
            }
        }
    }

    /// A folder with tokenizer.model (as Llama-2 repositories ship): the converter's SentencePiece path — the model's
    /// own scores and piece types — and the exported file tokenizes like transformers.
    func testSentencePieceModelFolderExportsTheConvertersKeys() throws {
        let model = try makeModel("sp-model")
        let out = model.deletingLastPathComponent().appendingPathComponent("m.gguf")
        let result = try ExportPipeline.exportGGUF(GGUFExportRequest(base: model, output: out, precision: .f32))
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.check).maxLogitDifference, 1e-4)
        let ours = try GGUFFile(url: out)
        let expected = try GGUFFile(url: try fixture("sp-model").appendingPathComponent("expected-vocab.gguf"))
        let expectedKeys = expected.metadataKeys.filter { $0.hasPrefix("tokenizer.") }
        XCTAssertEqual(expectedKeys.count, 12)
        for key in expectedKeys {
            XCTAssertEqual(ours.metadata[key], expected.metadata[key], key)
        }
        XCTAssertEqual(ours.metadataKeys.filter { $0.hasPrefix("tokenizer.") && $0 != "tokenizer.ggml.merges" }, expectedKeys)
        guard case .array(let scores)? = ours.metadata["tokenizer.ggml.scores"] else { return XCTFail("scores missing") }
        XCTAssertEqual(scores[263], .float32(-2), "the SentencePiece scores, not -1000")
        let original = try Tokenizer(directory: model)
        let exported = try LoadedModel.load(from: out).tokenizer()
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: try fixture("sp-model").appendingPathComponent("encodings.json"))) as? [String: Any]
        var compared = 0
        for entry in try XCTUnwrap(object?["encodings"] as? [[String: Any]]) {
            let text = try XCTUnwrap(entry["text"] as? String), ids = try XCTUnwrap(entry["ids"] as? [Int])
            XCTAssertEqual(original.encode(text), ids, "folder vs transformers: \(text)")
            // Tailor's GGUF reader prefixes "▁" once (Metaspace "first"); this tokenizer.json prefixes every piece
            // after an added token too ("always"): compare where transformers gives both the same ids.
            guard ids == (entry["ids_first"] as? [Int]) else { continue }
            compared += 1
            XCTAssertEqual(exported.encode(text), ids, "exported GGUF vs transformers: \(text)")
        }
        print("sp-model: \(compared) texts compared through the exported GGUF")
        XCTAssertGreaterThan(compared, 290)
    }

    func encodings(_ variant: String) throws -> [(text: String, ids: [Int])] {
        let url = try fixture(variant).appendingPathComponent("encodings.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        return try XCTUnwrap(object?["encodings"] as? [[String: Any]]).map { entry in
            (try XCTUnwrap(entry["text"] as? String), try XCTUnwrap(entry["ids"] as? [Int]))
        }
    }
}
