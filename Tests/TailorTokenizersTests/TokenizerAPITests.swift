// Public API details the CLI relies on, checked on fixtures whose values come from the reference files.
import Foundation
import TailorText
import XCTest
@testable import TailorTokenizers

final class TokenizerAPITests: XCTestCase {
    func testSmolLM2SpecialTokensAndTemplate() throws {
        let folder = try Fixtures.url("smollm2")
        let tokenizer = try Tokenizer(directory: folder)
        // tokenizer_config.json written by transformers names these tokens; chat_template.jinja holds the template.
        XCTAssertEqual(tokenizer.bosToken, "<|im_start|>")
        XCTAssertEqual(tokenizer.eosToken, "<|im_end|>")
        XCTAssertEqual(tokenizer.bosTokenID, tokenizer.id(for: "<|im_start|>"))
        XCTAssertEqual(tokenizer.padTokenID, tokenizer.id(for: "<|im_end|>"))
        XCTAssertEqual(tokenizer.unknownTokenID, tokenizer.id(for: "<|endoftext|>"))
        XCTAssertFalse(tokenizer.addsBOS)
        let jinja = try String(contentsOf: folder.appendingPathComponent("chat_template.jinja"), encoding: .utf8)
        XCTAssertEqual(tokenizer.chatTemplate, jinja)
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.specialTokenIDs.count, 17)
        // The chat markers are single tokens even inside text.
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>")
        XCTAssertEqual(ids.first, tokenizer.id(for: "<|im_start|>"))
        XCTAssertEqual(ids.last, tokenizer.id(for: "<|im_end|>"))
    }

    func testConfigChatTemplateListTakesDefault() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url("gpt2"))
        let config = try Fixtures.object("gpt2/tokenizer_config.json")
        let entries = config["chat_template"]?.arrayValue?.compactMap { $0.objectValue } ?? []
        let defaultTemplate = entries.first { $0["name"]?.stringValue == "default" }?["template"]?.stringValue
        XCTAssertNotNil(defaultTemplate)
        XCTAssertEqual(tokenizer.chatTemplate, defaultTemplate)
    }

    func testTemplateBOSAndEOS() throws {
        let llama3 = try Tokenizer(directory: Fixtures.url("llama3"))
        XCTAssertTrue(llama3.addsBOS)
        XCTAssertFalse(llama3.addsEOS)
        XCTAssertEqual(llama3.bosTokenID, llama3.id(for: "<|begin_of_text|>"))
        let sp = try Tokenizer(directory: Fixtures.url("sp_metaspace"))
        XCTAssertTrue(sp.addsBOS)
        XCTAssertTrue(sp.addsEOS)
        XCTAssertEqual(sp.bosToken, "<s>")
        XCTAssertEqual(sp.encode("hi", addSpecialTokens: true).first, 1)
        XCTAssertEqual(sp.encode("hi", addSpecialTokens: true).last, 2)
        XCTAssertEqual(sp.encode("hi", addSpecialTokens: false),
                       Array(sp.encode("hi", addSpecialTokens: true).dropFirst().dropLast()))
    }

    func testTokenStringRoundTrip() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.url("smollm2"))
        for id in stride(from: 0, to: tokenizer.vocabularySize, by: 113) {
            guard let piece = tokenizer.tokenString(for: id) else { return XCTFail("no piece for \(id)") }
            XCTAssertEqual(tokenizer.id(for: piece), id)
        }
        XCTAssertNil(tokenizer.tokenString(for: tokenizer.vocabularySize))
        XCTAssertNil(tokenizer.tokenString(for: -1))
    }
}
