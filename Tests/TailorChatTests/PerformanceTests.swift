// Rough render cost, printed for the record (no timing assertion: CI machines vary).
import Foundation
import XCTest
@testable import TailorChat

final class PerformanceTests: XCTestCase {
    func testRenderAndSpanCost() throws {
        let template = try ChatTemplate.builtIn(named: "llama3")
        var conversation = [ChatMessage(role: "system", content: "You are a helpful assistant.")]
        for i in 0..<8 {
            conversation.append(ChatMessage(role: "user", content: "Question number \(i): what is \(i) + \(i)?"))
            conversation.append(ChatMessage(role: "assistant", content: "The answer is \(2 * i)."))
        }
        let start = Date()
        let renders = 200
        for _ in 0..<renders {
            _ = try template.render(conversation: conversation, addGenerationPrompt: false, bosToken: "<|begin_of_text|>",
                                    eosToken: "<|eot_id|>")
        }
        let perRender = Date().timeIntervalSince(start) / Double(renders)
        let spanStart = Date()
        let (_, spans) = try template.assistantSpans(conversation: conversation, bosToken: "<|begin_of_text|>", eosToken: "<|eot_id|>")
        let spanTime = Date().timeIntervalSince(spanStart)
        XCTAssertEqual(spans.count, 8)
        print(String(format: "PerformanceTests: llama3, 17 messages: %.3f ms per render, %.1f ms for assistantSpans (debug build)",
                     perRender * 1000, spanTime * 1000))
    }
}
