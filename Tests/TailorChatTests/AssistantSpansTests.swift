// Assistant spans against the reference spans from tools/reference/chat_templates.py, and loss masks over a
// byte-level fake encoder.
import Foundation
import XCTest
@testable import TailorChat

final class AssistantSpansTests: XCTestCase {
    func testSpansMatchReference() throws {
        let fixture = try Fixtures.json("chat_templates.json")
        let infos = Dictionary(uniqueKeysWithValues: fixture["templates"]?.objectPairs ?? [])
        let cases = fixture["spans"]?.arrayValue ?? []
        XCTAssertGreaterThan(cases.count, 40)
        var passed = 0
        for c in cases {
            let name = c["template"]?.stringValue ?? ""
            let label = "\(name)/\(c["conversation"]?.stringValue ?? "")"
            let info = infos[name] ?? .none
            let template = try ChatTemplate(source: try Fixtures.text(info["file"]?.stringValue ?? ""))
            let tools = c["tools"].flatMap { $0 == .none ? nil : $0.arrayValue }
            if c["error"]?.stringValue == "notPrefixStable" {
                // Templates that re-render earlier turns (Qwen3 drops past reasoning): the reference rule fails at the
                // same message, and Tailor must say so rather than guess spans.
                XCTAssertThrowsError(try template.assistantSpans(messages: c["messages"]?.arrayValue ?? [],
                                                                 bosToken: info["bos_token"]?.optionalString,
                                                                 eosToken: info["eos_token"]?.optionalString, tools: tools), label) { error in
                    guard case let .notPrefixStable(turn, _)? = error as? ChatTemplateError else { return XCTFail("\(label): \(error)") }
                    XCTAssertEqual(turn, c["turn"]?.intValue, label)
                }
                passed += 1
                continue
            }
            let result = try template.assistantSpans(messages: c["messages"]?.arrayValue ?? [],
                                                     bosToken: info["bos_token"]?.optionalString,
                                                     eosToken: info["eos_token"]?.optionalString, tools: tools)
            XCTAssertEqual(result.text, c["text"]?.stringValue, label)
            let expected = (c["spans"]?.arrayValue ?? []).map { pair -> Range<Int> in
                let v = pair.arrayValue.compactMap(\.intValue)
                return v[0]..<v[1]
            }
            XCTAssertEqual(result.spans, expected, label)
            if result.spans == expected { passed += 1 }
        }
        print("AssistantSpansTests: \(passed)/\(cases.count) span cases match the reference")
    }

    /// With {% generation %} blocks the spans are the blocks, as transformers' return_assistant_tokens_mask gives them.
    func testGenerationBlocksMatchTransformers() throws {
        let generation = try Fixtures.json("chat_templates.json")["generation"] ?? .none
        let template = try ChatTemplate(source: generation["template"]?.stringValue ?? "")
        XCTAssertTrue(template.hasGenerationBlocks)
        XCTAssertFalse(try ChatTemplate.builtIn(named: "chatml").hasGenerationBlocks)
        let cases = generation["cases"]?.arrayValue ?? []
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let result = try template.assistantSpans(messages: c["messages"]?.arrayValue ?? [],
                                                     bosToken: generation["bos_token"]?.stringValue,
                                                     eosToken: generation["eos_token"]?.stringValue)
            XCTAssertEqual(result.text, c["text"]?.stringValue)
            let expected = (c["spans"]?.arrayValue ?? []).map { pair -> Range<Int> in
                let v = pair.arrayValue.compactMap(\.intValue)
                return v[0]..<v[1]
            }
            XCTAssertEqual(result.spans, expected, c["conversation"]?.stringValue ?? "")
        }
    }

    /// ChatML: each span is the assistant text plus "<|im_end|>", never the header or the newline after.
    func testChatMLSpanTextAndLossMask() throws {
        let template = try ChatTemplate.builtIn(named: "smollm2")
        let conversation = [
            ChatMessage(role: "system", content: "Be brief."),
            ChatMessage(role: "user", content: "Héllo 世界"),
            ChatMessage(role: "assistant", content: "Hi 🙂"),
            ChatMessage(role: "user", content: "Bye"),
            ChatMessage(role: "assistant", content: "Bye!"),
        ]
        let (text, spans) = try template.assistantSpans(conversation: conversation, bosToken: "<|im_start|>",
                                                        eosToken: "<|im_end|>")
        let bytes = Array(text.utf8)
        XCTAssertEqual(spans.map { String(decoding: bytes[$0], as: UTF8.self) }, ["Hi 🙂<|im_end|>", "Bye!<|im_end|>"])

        let tokens = fakeEncode(text, specials: ["<|im_start|>", "<|im_end|>"])
        let mask = try ChatTemplate.lossMask(text: text, spans: spans, tokens: tokens)
        XCTAssertEqual(mask.count, tokens.count)
        for (token, trained) in zip(tokens, mask) {
            let inSpan = spans.contains { $0.contains(token.utf8Range.lowerBound) }
            XCTAssertEqual(trained, inSpan)
        }
        // Trained tokens reassemble exactly the span texts.
        let trainedBytes = zip(tokens, mask).filter(\.1).flatMap { bytes[$0.0.utf8Range] }
        let trainedText = String(decoding: trainedBytes, as: UTF8.self)
        XCTAssertEqual(trainedText, "Hi 🙂<|im_end|>Bye!<|im_end|>")
        XCTAssertEqual(zip(tokens, mask).filter { $0.1 && $0.0.id == -2 }.count, 2, "both <|im_end|> markers trained")
    }

    func testLossMaskStraddlingRule() throws {
        let text = "0123456789"
        let spans = [2..<5, 7..<9]
        let tokens = [TokenSpan(id: 0, utf8Range: 0..<0), TokenSpan(id: 1, utf8Range: 0..<3), TokenSpan(id: 2, utf8Range: 3..<4),
                      TokenSpan(id: 3, utf8Range: 4..<6), TokenSpan(id: 4, utf8Range: 6..<8), TokenSpan(id: 5, utf8Range: 8..<10)]
        // empty: no; starts before span: no; inside: yes; starts inside, ends after: yes; starts before: no; inside: yes
        XCTAssertEqual(try ChatTemplate.lossMask(text: text, spans: spans, tokens: tokens), [false, false, true, true, false, true])
        XCTAssertThrowsError(try ChatTemplate.lossMask(text: text, spans: spans, tokens: [(id: 1, utf8Range: 8..<11)]))
    }

    func testNotPrefixStableTemplateIsReported() throws {
        // Re-renders past assistant turns differently once later turns exist (like templates that drop reasoning).
        let template = try ChatTemplate(source: "{% for m in messages %}{% if m.role == 'assistant' and not loop.last %}"
            + "[old]{% else %}{{ m.content }}{% endif %}{% endfor %}")
        let conversation = [ChatMessage(role: "user", content: "q"), ChatMessage(role: "assistant", content: "a"),
                            ChatMessage(role: "user", content: "q2"), ChatMessage(role: "assistant", content: "b")]
        XCTAssertThrowsError(try template.assistantSpans(conversation: conversation, bosToken: nil, eosToken: nil)) { error in
            guard case let .notPrefixStable(turn, _)? = error as? ChatTemplateError else { return XCTFail("\(error)") }
            XCTAssertEqual(turn, 1)
        }
    }

    /// A byte-level fake tokenizer: listed special tokens are single tokens (negative ids), every other byte is one.
    private func fakeEncode(_ text: String, specials: [String]) -> [TokenSpan] {
        let bytes = Array(text.utf8)
        let specialBytes = specials.map { Array($0.utf8) }
        var tokens: [TokenSpan] = []
        var i = 0
        outer: while i < bytes.count {
            for (k, s) in specialBytes.enumerated() where i + s.count <= bytes.count && Array(bytes[i..<i + s.count]) == s {
                tokens.append(TokenSpan(id: -1 - k, utf8Range: i..<i + s.count))
                i += s.count
                continue outer
            }
            tokens.append(TokenSpan(id: Int(bytes[i]), utf8Range: i..<i + 1))
            i += 1
        }
        return tokens
    }
}
