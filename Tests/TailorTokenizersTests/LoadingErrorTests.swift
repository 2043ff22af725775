// Bad input gives named errors: missing file, malformed JSON (file and key), unknown model or component types,
// unsupported regexes, merges naming unknown tokens.
import Foundation
import TailorText
import XCTest
@testable import TailorTokenizers

final class LoadingErrorTests: XCTestCase {
    /// A minimal valid tokenizer.json with `edit` applied to its top-level object.
    func json(_ edit: (inout [String: Any]) -> Void) throws -> Data {
        var root: [String: Any] = [
            "version": "1.0", "added_tokens": [], "normalizer": NSNull(), "post_processor": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2], "merges": [["a", "b"]]],
        ]
        edit(&root)
        return try JSONSerialization.data(withJSONObject: root)
    }

    func assertError(_ data: Data, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: data), file: file, line: line) { error in
            let text = "\(error)"
            for part in parts { XCTAssertTrue(text.contains(part), "\"\(text)\" lacks \"\(part)\"", file: file, line: line) }
        }
    }

    func testMinimalTokenizerLoads() throws {
        let tokenizer = try Tokenizer(tokenizerJSON: json { _ in })
        XCTAssertEqual(tokenizer.encode("ab"), [2])
    }

    func testMissingFile() {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tailor-no-such-\(UUID())")
        XCTAssertThrowsError(try Tokenizer(directory: folder)) { error in
            guard case TokenizerError.missingFile(let path) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertTrue(path.hasSuffix("tokenizer.json"))
        }
    }

    func testMalformedJSONNamesFile() {
        assertError(Data("{\"model\": [".utf8), contains: ["tokenizer.json", "not valid JSON"])
    }

    func testWrongTypeNamesKey() throws {
        assertError(try json { $0["model"] = ["type": "BPE", "vocab": ["a": "zero"], "merges": []] },
                    contains: ["tokenizer.json", "model.vocab[\"a\"]", "integer"])
        assertError(try json { $0["added_tokens"] = [["id": 5, "special": true]] },
                    contains: ["added_tokens[0].content", "missing"])
    }

    func testMalformedConfigNamesFile() throws {
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: json { _ in }, tokenizerConfigJSON: Data("{\"bos_token\": 3}".utf8))) { error in
            XCTAssertTrue("\(error)".contains("tokenizer_config.json") && "\(error)".contains("bos_token"), "\(error)")
        }
    }

    func testUnknownModelType() throws {
        assertError(try json { $0["model"] = ["type": "WordPiece", "vocab": [:]] }, contains: ["WordPiece", "model type"])
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: json { $0["model"] = ["type": "Unigram", "vocab": []] })) { error in
            guard case TokenizerError.unsupportedModel(_, "Unigram") = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testUnsupportedComponentsAreNamed() throws {
        assertError(try json { $0["pre_tokenizer"] = ["type": "BertPreTokenizer"] }, contains: ["pre_tokenizer", "BertPreTokenizer"])
        assertError(try json { $0["normalizer"] = ["type": "NFKD"] }, contains: ["normalizer", "NFKD"])
        assertError(try json { $0["decoder"] = ["type": "WordPiece"] }, contains: ["decoder", "WordPiece"])
        assertError(try json { $0["post_processor"] = ["type": "Mystery"] }, contains: ["post_processor", "Mystery"])
        assertError(try json {
            $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "\\d+"], "behavior": "Isolated", "invert": false]
        }, contains: ["unsupported Split regex", "\\d+"])
    }

    func testMergeWithUnknownToken() throws {
        let data = try json { $0["model"] = ["type": "BPE", "vocab": ["a": 0, "b": 1, "ab": 2], "merges": [["a", "b"], ["a", "zz"]]] }
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: data)) { error in
            guard case TokenizerError.mergeReferencesUnknownToken(let file, 1, "a zz", "zz") = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(file, "tokenizer.json")
        }
        // The merged piece itself must exist too.
        let missingResult = try json { $0["model"] = ["type": "BPE", "vocab": ["a": 0, "b": 1], "merges": ["a b"]] }
        assertError(missingResult, contains: ["merges[0]", "'ab'"])
    }

    func testTemplateNamingUnknownSpecialToken() throws {
        assertError(try json {
            $0["post_processor"] = ["type": "TemplateProcessing", "single": [["SpecialToken": ["id": "<s>", "type_id": 0]],
                                                                               ["Sequence": ["id": "A", "type_id": 0]]],
                                    "pair": [], "special_tokens": [:]]
        }, contains: ["post_processor.single[0]", "<s>"])
    }
}
