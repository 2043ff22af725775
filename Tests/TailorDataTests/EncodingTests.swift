// Token ids and loss masks against transformers / TRL references (tools/reference/data_fixtures.py).
import Foundation
import TailorChat
import TailorTokenizers
import XCTest
@testable import TailorData

final class EncodingTests: XCTestCase {
    /// 64 conversations (single and multi-turn, with and without system, unicode, code, leading/trailing spaces):
    /// ids equal `apply_chat_template(tokenize=True)` and trained tokens equal transformers'
    /// `return_assistant_tokens_mask` over generation blocks around each assistant content + <|im_end|>. Exact.
    func testConversationIDsAndAssistantMasksMatchTransformers() throws {
        let fixture = try Fixture.json("smollm2_masks.json")
        let conversations = try XCTUnwrap(fixture["conversations"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(conversations.count, 50)
        let encoder = SampleEncoder(tokenizer: try Fixture.tokenizer(), template: try Fixture.template())
        var multiTurn = 0, withSystem = 0
        for (n, case_) in conversations.enumerated() {
            let raw = try XCTUnwrap(case_["messages"] as? [[String: String]])
            let messages = raw.map { ChatMessage(role: $0["role"] ?? "", content: $0["content"] ?? "") }
            multiTurn += messages.filter { $0.role == "assistant" }.count > 1 ? 1 : 0
            withSystem += messages.first?.role == "system" ? 1 : 0
            let encoded = try encoder.encode(.conversation(messages))
            XCTAssertEqual(encoded.text, case_["text"] as? String, "conversation \(n): rendered text")
            let ids = try XCTUnwrap(case_["input_ids"] as? [Int]).map(Int32.init)
            let mask = try XCTUnwrap(case_["assistant_mask"] as? [Int])
            XCTAssertEqual(encoded.inputIDs, ids, "conversation \(n): ids")
            XCTAssertEqual(encoded.labels, zip(ids, mask).map { $1 == 1 ? $0 : -100 }, "conversation \(n): labels")
            // EOS (<|im_end|>, id 2) closes every assistant turn and is trained.
            XCTAssertEqual(encoded.labels.filter { $0 == 2 }.count, messages.filter { $0.role == "assistant" }.count)
        }
        XCTAssertGreaterThan(multiTurn, 10)
        XCTAssertGreaterThan(withSystem, 10)
    }

    /// TRL prompt/completion: EOS appended unless present, completion-only loss.
    func testPromptCompletionMatchesTRLRule() throws {
        let cases = try XCTUnwrap(try Fixture.json("smollm2_masks.json")["prompt_completion"] as? [[String: Any]])
        let encoder = SampleEncoder(tokenizer: try Fixture.tokenizer(), template: nil)
        for (n, c) in cases.enumerated() {
            let encoded = try encoder.encode(.promptCompletion(prompt: try XCTUnwrap(c["prompt"] as? String), completion: try XCTUnwrap(c["completion"] as? String)))
            let ids = try XCTUnwrap(c["input_ids"] as? [Int]).map(Int32.init)
            let mask = try XCTUnwrap(c["completion_mask"] as? [Int])
            XCTAssertEqual(encoded.inputIDs, ids, "case \(n)")
            XCTAssertEqual(encoded.labels, zip(ids, mask).map { $1 == 1 ? $0 : -100 }, "case \(n)")
            XCTAssertEqual(encoded.inputIDs.last, 2, "case \(n): ends with EOS")
        }
    }

    /// TRL plain text: EOS appended unless present, everything trained.
    func testTextMatchesTRLRule() throws {
        let cases = try XCTUnwrap(try Fixture.json("smollm2_masks.json")["text"] as? [[String: Any]])
        let encoder = SampleEncoder(tokenizer: try Fixture.tokenizer(), template: nil)
        for c in cases {
            let encoded = try encoder.encode(.text(try XCTUnwrap(c["text"] as? String)))
            let ids = try XCTUnwrap(c["input_ids"] as? [Int]).map(Int32.init)
            XCTAssertEqual(encoded.inputIDs, ids)
            XCTAssertEqual(encoded.labels, ids)
            XCTAssertEqual(encoded.inputIDs.filter { $0 == 2 }.count, 1, "exactly one EOS")
        }
    }

    func testTrainOnPromptTrainsEverything() throws {
        let encoder = SampleEncoder(tokenizer: try Fixture.tokenizer(), template: try Fixture.template(), trainOnPrompt: true)
        let encoded = try encoder.encode(.conversation([ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello")]))
        XCTAssertEqual(encoded.labels, encoded.inputIDs)
        let masked = try SampleEncoder(tokenizer: try Fixture.tokenizer(), template: try Fixture.template())
            .encode(.conversation([ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello")]))
        XCTAssertLessThan(masked.trainedCount, masked.inputIDs.count)
        XCTAssertEqual(masked.labels.last, -100, "the newline after <|im_end|> is not trained")
    }

    /// A tokenizer that adds BOS and a template that writes BOS: BOS appears once. A template without BOS: the
    /// tokenizer's BOS is put in front, once, untrained.
    func testNoDoubleBOS() throws {
        let dir = try Fixture.url.appendingPathComponent("smollm2")
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))) as? [String: Any])
        json["post_processor"] = [
            "type": "TemplateProcessing",
            "single": [["SpecialToken": ["id": "<|im_start|>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
            "pair": [["SpecialToken": ["id": "<|im_start|>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]], ["Sequence": ["id": "B", "type_id": 1]]],
            "special_tokens": ["<|im_start|>": ["id": "<|im_start|>", "ids": [1], "tokens": ["<|im_start|>"]]],
        ]
        let tokenizer = try Tokenizer(tokenizerJSON: try JSONSerialization.data(withJSONObject: json),
                                      tokenizerConfigJSON: try Data(contentsOf: dir.appendingPathComponent("tokenizer_config.json")))
        XCTAssertTrue(tokenizer.addsBOS)
        let chat: Sample = .conversation([ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Yo")])
        let writesBOS = try ChatTemplate(source: "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{{ eos_token }}{% endfor %}")
        let a = try SampleEncoder(tokenizer: tokenizer, template: writesBOS).encode(chat)
        XCTAssertEqual(a.inputIDs.first, 1)
        XCTAssertEqual(a.inputIDs.filter { $0 == 1 }.count, 1)
        let noBOS = try ChatTemplate(source: "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{{ eos_token }}{% endfor %}")
        let b = try SampleEncoder(tokenizer: tokenizer, template: noBOS).encode(chat)
        XCTAssertEqual(b.inputIDs.first, 1)
        XCTAssertEqual(b.inputIDs.filter { $0 == 1 }.count, 1)
        XCTAssertEqual(b.labels.first, -100)
        // Template written BOS, tokenizer without BOS (SmolLM2 as shipped): once.
        let c = try SampleEncoder(tokenizer: try Fixture.tokenizer(), template: writesBOS).encode(chat)
        XCTAssertEqual(c.inputIDs.filter { $0 == 1 }.count, 1)
    }

    func testConversationWithoutTemplateIsNamedError() throws {
        let encoder = SampleEncoder(tokenizer: try Fixture.tokenizer(), template: nil)
        XCTAssertThrowsError(try encoder.encode(.conversation([ChatMessage(role: "user", content: "x")]), path: "d.jsonl", line: 7)) { error in
            guard case let DataError.template(path, line, _)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "d.jsonl")
            XCTAssertEqual(line, 7)
        }
    }

    func testOverlapMaskRule() {
        // Token 0 ends where the span starts (not trained), token 1 straddles the start (trained), token 3 lies
        // after the span, token 4 is empty.
        let mask = SampleEncoder.overlapMask([0..<5, 4..<8, 8..<10, 10..<12, 6..<6], spans: [5..<10])
        XCTAssertEqual(mask, [false, true, true, false, false])
    }
}
