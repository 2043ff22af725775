// The GGUF path: SmolLM2's tokenizer.ggml.* metadata (dumped by gguf-py from the real GGUF) must encode the corpus
// exactly as the tokenizers library does with SmolLM2's pre-tokenizer (Digits + ByteLevel, llama.cpp "smollm").
import Foundation
import TailorText
import XCTest
@testable import TailorTokenizers

final class GGUFTokenizerTests: XCTestCase {
    static func smolLM2Data() throws -> GGUFTokenizerData {
        let meta = try Fixtures.object("smollm2_gguf_tokenizer.json")
        func int(_ key: String) -> Int? { if case .int(let v)? = meta[key] { return v } else { return nil } }
        func bool(_ key: String) -> Bool? { if case .bool(let v)? = meta[key] { return v } else { return nil } }
        guard let model = meta["tokenizer.ggml.model"]?.stringValue,
              let tokens = meta["tokenizer.ggml.tokens"]?.arrayValue?.compactMap({ $0.stringValue }),
              let types = Fixtures.ints(meta["tokenizer.ggml.token_type"]),
              let merges = meta["tokenizer.ggml.merges"]?.arrayValue?.compactMap({ $0.stringValue })
        else { throw FixtureError.shape("smollm2_gguf_tokenizer.json") }
        return GGUFTokenizerData(
            model: model, pre: meta["tokenizer.ggml.pre"]?.stringValue, tokens: tokens,
            tokenTypes: types.map { Int32($0) }, merges: merges, scores: nil,
            bosTokenID: int("tokenizer.ggml.bos_token_id"), eosTokenID: int("tokenizer.ggml.eos_token_id"),
            unknownTokenID: int("tokenizer.ggml.unknown_token_id"), paddingTokenID: int("tokenizer.ggml.padding_token_id"),
            addBOS: bool("tokenizer.ggml.add_bos_token"), addEOS: bool("tokenizer.ggml.add_eos_token"),
            addSpacePrefix: bool("tokenizer.ggml.add_space_prefix"),
            chatTemplate: meta["tokenizer.chat_template"]?.stringValue)
    }

    func testSmolLM2FromGGUFMatchesReference() throws {
        let tokenizer = try Tokenizer(gguf: Self.smolLM2Data())
        let corpus = try Fixtures.corpus()
        guard let expected = Fixtures.intLists(try Fixtures.object("smollm2_gguf_expected.json")["encode"]) else {
            throw FixtureError.shape("smollm2_gguf_expected.json")
        }
        var mismatches = 0
        for (index, text) in corpus.enumerated() {
            let ids = tokenizer.encode(text)
            if ids != expected[index] {
                mismatches += 1
                if mismatches <= 10 { XCTFail("GGUF encode #\(index) \"\(visible(text))\" got \(ids) expected \(expected[index])") }
            }
        }
        XCTAssertEqual(mismatches, 0, "\(mismatches) of \(corpus.count) strings differ")
        print("[smollm2 gguf] \(corpus.count) strings, \(mismatches) mismatches")
    }

    /// transformers' GGUF conversion ignores tokenizer.ggml.pre (plain GPT-2 ByteLevel); with `pre` set to "gpt-2"
    /// the GGUF path reproduces it exactly (reference: the tokenizer.json transformers saved from the GGUF).
    func testSmolLM2FromGGUFWithGPT2PreMatchesTransformersConversion() throws {
        var data = try Self.smolLM2Data()
        data.pre = "gpt-2"
        let tokenizer = try Tokenizer(gguf: data)
        let corpus = try Fixtures.corpus()
        guard let expected = Fixtures.intLists(try Fixtures.object("smollm2/expected.json")["encode"]) else {
            throw FixtureError.shape("smollm2/expected.json")
        }
        var mismatches = 0
        for (index, text) in corpus.enumerated() where tokenizer.encode(text) != expected[index] {
            mismatches += 1
            if mismatches <= 10 { XCTFail("GGUF(gpt-2) encode #\(index) \"\(visible(text))\" got \(tokenizer.encode(text)) expected \(expected[index])") }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testSmolLM2GGUFMetadataMatchesTokenizerJSON() throws {
        let fromGGUF = try Tokenizer(gguf: Self.smolLM2Data())
        let fromJSON = try Tokenizer(directory: Fixtures.url("smollm2"))
        XCTAssertEqual(fromGGUF.vocabularySize, fromJSON.vocabularySize)
        XCTAssertEqual(fromGGUF.specialTokenIDs, fromJSON.specialTokenIDs)
        XCTAssertEqual(fromGGUF.bosTokenID, fromJSON.bosTokenID)
        XCTAssertEqual(fromGGUF.eosTokenID, fromJSON.eosTokenID)
        XCTAssertEqual(fromGGUF.padTokenID, fromJSON.padTokenID)
        XCTAssertEqual(fromGGUF.bosToken, fromJSON.bosToken)
        XCTAssertEqual(fromGGUF.eosToken, fromJSON.eosToken)
        XCTAssertEqual(fromGGUF.addsBOS, fromJSON.addsBOS)
        XCTAssertEqual(fromGGUF.chatTemplate, fromJSON.chatTemplate)
        for id in stride(from: 0, to: fromJSON.vocabularySize, by: 97) {
            XCTAssertEqual(fromGGUF.tokenString(for: id), fromJSON.tokenString(for: id))
        }
    }

    func testUnsupportedGGUFModelAndPreAreNamed() {
        XCTAssertThrowsError(try Tokenizer(gguf: GGUFTokenizerData(model: "bert", tokens: ["a"]))) { error in
            XCTAssertTrue("\(error)".contains("bert"), "\(error)")
        }
        let data = GGUFTokenizerData(model: "gpt2", pre: "made-up", tokens: ["a", "b", "ab"], merges: ["a b"])
        XCTAssertThrowsError(try Tokenizer(gguf: data)) { error in
            XCTAssertTrue("\(error)".contains("made-up") && "\(error)".contains("tokenizer.ggml.pre"), "\(error)")
        }
        let badMerge = GGUFTokenizerData(model: "gpt2", tokens: ["a", "b"], merges: ["a c"])
        XCTAssertThrowsError(try Tokenizer(gguf: badMerge)) { error in
            guard case TokenizerError.mergeReferencesUnknownToken(_, 0, _, "c") = error else {
                return XCTFail("unexpected \(error)")
            }
        }
    }
}

/// The "llama" (SentencePiece) GGUF path against transformers' conversion of a GGUF written with gguf-py.
final class GGUFSentencePieceTests: XCTestCase {
    func testSentencePieceGGUFMatchesTransformersConversion() throws {
        let meta = try Fixtures.object("sp_gguf_tokenizer.json")
        func int(_ key: String) -> Int? { if case .int(let v)? = meta[key] { return v } else { return nil } }
        func bool(_ key: String) -> Bool? { if case .bool(let v)? = meta[key] { return v } else { return nil } }
        guard let tokens = meta["tokenizer.ggml.tokens"]?.arrayValue?.compactMap({ $0.stringValue }),
              let types = Fixtures.ints(meta["tokenizer.ggml.token_type"]),
              let scores = meta["tokenizer.ggml.scores"]?.arrayValue?.compactMap({ value -> Float? in
                  switch value {
                  case .int(let i): return Float(i)
                  case .double(let d): return Float(d)
                  default: return nil
                  }
              })
        else { throw FixtureError.shape("sp_gguf_tokenizer.json") }
        let data = GGUFTokenizerData(
            model: meta["tokenizer.ggml.model"]?.stringValue ?? "", pre: meta["tokenizer.ggml.pre"]?.stringValue,
            tokens: tokens, tokenTypes: types.map { Int32($0) }, merges: nil, scores: scores,
            bosTokenID: int("tokenizer.ggml.bos_token_id"), eosTokenID: int("tokenizer.ggml.eos_token_id"),
            unknownTokenID: int("tokenizer.ggml.unknown_token_id"), addBOS: bool("tokenizer.ggml.add_bos_token"),
            addEOS: bool("tokenizer.ggml.add_eos_token"), addSpacePrefix: bool("tokenizer.ggml.add_space_prefix"))
        let tokenizer = try Tokenizer(gguf: data)
        let expected = try Fixtures.object("sp_gguf_expected.json")
        guard let encoded = Fixtures.intLists(expected["encode"]), let inputs = Fixtures.intLists(expected["decode_inputs"]),
              let decoded = Fixtures.strings(expected["decode"]), let decodedSkip = Fixtures.strings(expected["decode_skip"])
        else { throw FixtureError.shape("sp_gguf_expected.json") }
        var mismatches = 0
        for (index, text) in try Fixtures.corpus().enumerated() where tokenizer.encode(text) != encoded[index] {
            mismatches += 1
            if mismatches <= 10 { XCTFail("encode #\(index) \"\(visible(text))\" got \(tokenizer.encode(text)) expected \(encoded[index])") }
        }
        for (index, ids) in inputs.enumerated() {
            if tokenizer.decode(ids) != decoded[index] || tokenizer.decode(ids, skipSpecialTokens: true) != decodedSkip[index] {
                mismatches += 1
                if mismatches <= 10 { XCTFail("decode \(ids) got \"\(visible(tokenizer.decode(ids)))\" expected \"\(visible(decoded[index] ?? ""))\"") }
            }
        }
        XCTAssertEqual(mismatches, 0)
        print("[sp gguf] \(encoded.count + inputs.count) checks, \(mismatches) mismatches")
        XCTAssertTrue(tokenizer.addsBOS)
        XCTAssertEqual(tokenizer.unknownTokenID, 0)
    }
}
