// Tool-calling rows (top-level tools, assistant tool_calls, tool results) through conversion, cleaning, encoding
// and prepare, against transformers (tools/reference/data_tool_fixtures.py → Fixtures/tool_rows.json).
import Foundation
import TailorChat
import XCTest
@testable import TailorData

final class ToolRowTests: XCTestCase {
    func template(_ name: String, fixture: [String: Any]) throws -> ChatTemplate {
        if let builtIn = ["qwen2.5": "qwen2.5", "llama3": "llama3", "chatml": "chatml"][name] { return try ChatTemplate.builtIn(named: builtIn) }
        let templates = try XCTUnwrap(fixture["templates"] as? [String: [String: Any]])
        return try ChatTemplate(source: try XCTUnwrap(templates[name]?["source"] as? String))
    }

    /// A fixture case as the JSONL line `prepare` reads (written by Python, so the tools keep their key order).
    func line(_ case_: [String: Any]) throws -> String { try XCTUnwrap(case_["line"] as? String) }

    func sample(_ case_: [String: Any]) throws -> Sample {
        let record = try XCTUnwrap(readRecords(try line(case_)).records.first)
        return try RecordConverter(format: .messages, path: "t.jsonl").convert(record)
    }

    /// Every kept case: rendered text, ids and labels equal transformers' (masks: `return_assistant_tokens_mask`
    /// for the generation-block template; the repo's span rule for Qwen2.5 and Llama 3). Exact.
    func testToolRowsEncodeLikeTransformers() throws {
        let fixture = try Fixture.json("tool_rows.json")
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        var checked = Set<String>()
        for case_ in cases where case_["expected"] as? String == "kept" {
            let name = try XCTUnwrap(case_["template"] as? String), row = case_["row"] as? Int ?? -1
            let encoder = SampleEncoder(tokenizer: try Fixture.tokenizer(), template: try template(name, fixture: fixture))
            let encoded = try encoder.encode(try sample(case_))
            XCTAssertEqual(encoded.text, case_["text"] as? String, "\(name) row \(row): text")
            let ids = try XCTUnwrap(case_["input_ids"] as? [Int]).map(Int32.init)
            let mask = try XCTUnwrap(case_["assistant_mask"] as? [Int])
            XCTAssertEqual(encoded.inputIDs, ids, "\(name) row \(row): ids")
            XCTAssertEqual(encoded.labels, zip(ids, mask).map { $1 == 1 ? $0 : -100 }, "\(name) row \(row): labels")
            checked.insert(name)
        }
        XCTAssertEqual(checked, ["qwen2.5", "llama3", "qwen2.5-generation"])
    }

    /// Tool calls and tool results: the call is trained, the tool's answer is not.
    func testToolCallTrainedToolResultMasked() throws {
        let fixture = try Fixture.json("tool_rows.json")
        let case_ = try XCTUnwrap((fixture["cases"] as? [[String: Any]])?.first { $0["template"] as? String == "qwen2.5" && $0["row"] as? Int == 0 })
        let encoder = SampleEncoder(tokenizer: try Fixture.tokenizer(), template: try ChatTemplate.builtIn(named: "qwen2.5"))
        let encoded = try encoder.encode(try sample(case_))
        let tokenizer = try Fixture.tokenizer()
        let trained = tokenizer.decode(encoded.labels.filter { $0 >= 0 }.map(Int.init))
        XCTAssertTrue(trained.contains("get_weather"), trained)
        XCTAssertFalse(trained.contains("temp"), trained)
        XCTAssertTrue(trained.contains("It is 22"), trained)
    }

    /// prepare keeps tool rows under a template that renders them, drops them (counted) under one that does not,
    /// and never counts a tool-call turn as an empty response.
    func testPrepareKeepsToolRowsAndCountsTrueDrops() throws {
        let fixture = try Fixture.json("tool_rows.json")
        let rows = try XCTUnwrap(fixture["cases"] as? [[String: Any]]).filter { $0["template"] as? String == "qwen2.5" }
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("tools.jsonl")
        try (try rows.map(line).joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        var o = PrepareOptions()
        o.validationFraction = 0
        let kept = try DataPipeline.prepare(url, tokenizer: try Fixture.tokenizer(), template: try ChatTemplate.builtIn(named: "qwen2.5"), options: o)
        XCTAssertEqual(kept.report.rowsKept, rows.count)
        XCTAssertEqual(kept.report.rules.first { $0.rule == "empty-response" }?.count, 0)
        XCTAssertTrue(kept.spotSample.allSatisfy { $0["tools"] != nil })
        let dropped = try DataPipeline.prepare(url, tokenizer: try Fixture.tokenizer(), template: try ChatTemplate.builtIn(named: "chatml"), options: o)
        XCTAssertEqual(dropped.report.rowsKept, 0)
        XCTAssertEqual(dropped.report.rules.first { $0.rule == "tools-not-in-template" }?.count, rows.count)
        XCTAssertEqual(dropped.report.rowsDropped, rows.count)
    }

    /// A truly empty assistant turn (no content, no tool calls) is still dropped as empty.
    func testEmptyTurnWithoutToolCallsIsStillEmpty() throws {
        let sample = Sample.conversation([ChatMessage(role: "user", content: "x"), ChatMessage(role: "assistant", content: " ")], tools: [["type": "function"]])
        let result = try Cleaner(options: CleaningOptions()).clean([SourcedSample(line: 1, sample: sample)])
        XCTAssertEqual(result.kept.count, 0)
        XCTAssertEqual(result.rules.first { $0.rule == "empty-response" }?.count, 1)
    }

    /// Malformed tool fields name the line and field.
    func testMalformedToolFieldsAreNamed() throws {
        let converter = RecordConverter(format: .messages, path: "t.jsonl")
        let badCalls = try XCTUnwrap(readRecords(#"{"messages": [{"role": "assistant", "content": "", "tool_calls": "get_weather"}]}"#).records.first)
        assertThrows(.invalidField(path: "t.jsonl", line: 1, field: "messages[0].tool_calls",
                                   message: #"expected a list of {"type", "function": {"name", "arguments"}} objects"#)) { _ = try converter.convert(badCalls) }
        let badTools = try XCTUnwrap(readRecords(#"{"messages": [{"role": "user", "content": "x"}], "tools": [1]}"#).records.first)
        assertThrows(.invalidField(path: "t.jsonl", line: 1, field: "tools[0]", message: "expected a tool object (a function schema)")) { _ = try converter.convert(badTools) }
    }
}
