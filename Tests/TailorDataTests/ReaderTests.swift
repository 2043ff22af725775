// Reading JSONL / JSON arrays / CSV, format detection and conversion, and the named errors for bad input.
import Foundation
import TailorChat
import XCTest
@testable import TailorData

final class ReaderTests: XCTestCase {
    func testJSONLWithBlankLinesKeepsLineNumbers() throws {
        let r = try readRecords("{\"text\": \"a\"}\n\n{\"text\": \"b\"}\n")
        XCTAssertEqual(r.container, .jsonl)
        XCTAssertEqual(r.records.map(\.line), [1, 3])
        XCTAssertEqual(r.records[1].value["text"], .string("b"))
    }

    func testJSONArrayElementsCarryTheirStartLine() throws {
        let r = try readRecords("[\n  {\"text\": \"a, ]\"},\n  {\"text\": \"b\"}\n]\n")
        XCTAssertEqual(r.container, .jsonArray)
        XCTAssertEqual(r.records.map(\.line), [2, 3])
        XCTAssertEqual(r.records[0].value["text"], .string("a, ]"))
    }

    func testMalformedLineIsNamedErrorOrSkipped() throws {
        let text = "{\"text\": \"a\"}\n{\"text\": oops}\n[1]\n"
        do {
            _ = try readRecords(text)
            XCTFail("expected an error")
        } catch let DataError.malformedRecord(path, line, _) {
            XCTAssertEqual(path, "t.jsonl")
            XCTAssertEqual(line, 2)
        }
        let skipped = try readRecords(text, skip: true)
        XCTAssertEqual(skipped.records.count, 1)
        XCTAssertEqual(skipped.skipped.map(\.line), [2, 3])
    }

    func testEmptyFileIsNamedError() {
        assertThrows(.emptyFile(path: "t.jsonl")) { _ = try readRecords("  \n\n") }
        assertThrows(.emptyFile(path: "t.jsonl")) { _ = try readRecords("[]") }
    }

    func testCSVQuotesAndEmbeddedNewlines() throws {
        let csv = "prompt,completion\r\n\"Say \"\"hi\"\"\",\"line1\nline2\"\nplain,\"a,b\"\n"
        let r = try readRecords(csv, csv: true)
        XCTAssertEqual(r.container, .csv)
        XCTAssertEqual(r.records.count, 2)
        XCTAssertEqual(r.records[0].value["prompt"], .string("Say \"hi\""))
        XCTAssertEqual(r.records[0].value["completion"], .string("line1\nline2"))
        XCTAssertEqual(r.records[1].line, 4)
        XCTAssertEqual(r.records[1].value["completion"], .string("a,b"))
    }

    func testUnreadableCSVIsNamedErrorWithLine() {
        assertThrows(.unreadableCSV(path: "t.jsonl", line: 2, message: "a quoted cell is never closed")) {
            _ = try readRecords("a,b\n\"x,y\n", csv: true)
        }
        assertThrows(.unreadableCSV(path: "t.jsonl", line: 3, message: "3 cells, but the header has 2")) {
            _ = try readRecords("a,b\n1,2\n1,2,3\n", csv: true)
        }
        assertThrows(.unreadableCSV(path: "t.jsonl", line: 1, message: "the header repeats a column name")) {
            _ = try readRecords("a,a\n1,2\n", csv: true)
        }
    }

    func testDetectsEachFormat() throws {
        let f = FieldMapping()
        func detect(_ json: String) throws -> DataFormat? { DataFormat.detect(try JinjaValue(json: Data(json.utf8)), fields: f) }
        XCTAssertEqual(try detect(#"{"messages": [{"role": "user", "content": "x"}]}"#), .messages)
        XCTAssertEqual(try detect(#"{"conversations": [{"from": "human", "value": "x"}]}"#), .sharegpt)
        XCTAssertEqual(try detect(#"{"conversations": [{"role": "user", "content": "x"}]}"#), .messages)
        XCTAssertEqual(try detect(#"{"instruction": "a", "input": "", "output": "b"}"#), .alpaca)
        XCTAssertEqual(try detect(#"{"prompt": "a", "completion": "b"}"#), .promptCompletion)
        XCTAssertEqual(try detect(#"{"text": "a"}"#), .text)
        XCTAssertNil(try detect(#"{"question": "a", "answer": "b"}"#))
        let mapped = try FieldMapping(overrides: ["prompt=question", "completion=answer"])
        XCTAssertEqual(DataFormat.detect(try JinjaValue(json: Data(#"{"question": "a", "answer": "b"}"#.utf8)), fields: mapped), .promptCompletion)
    }

    func testUnknownFormatNamesLineAndKeys() throws {
        let r = try readRecords("\n{\"question\": \"a\", \"answer\": \"b\"}\n")
        assertThrows(.unknownFormat(path: "t.jsonl", line: 2, keys: ["question", "answer"])) {
            _ = try RecordConverter.resolve(.auto, records: r.records, fields: FieldMapping(), path: "t.jsonl")
        }
    }

    func testMissingFieldNamesLine() throws {
        let r = try readRecords("{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"c\"}\n")
        let converter = RecordConverter(format: .alpaca, path: "t.jsonl")
        XCTAssertNoThrow(try converter.convert(r.records[0]))
        assertThrows(.missingField(path: "t.jsonl", line: 2, field: "output", format: "alpaca")) { _ = try converter.convert(r.records[1]) }
        let messages = RecordConverter(format: .messages, path: "t.jsonl")
        let m = try readRecords(#"{"messages": [{"content": "x"}]}"#)
        assertThrows(.missingField(path: "t.jsonl", line: 1, field: "messages[0].role", format: "messages")) { _ = try messages.convert(m.records[0]) }
    }

    func testAlpacaWithSystemHistoryAndInput() throws {
        let r = try readRecords(#"{"system": "S", "history": [["q1", "a1"]], "instruction": "Do", "input": "this", "output": "done"}"#)
        let sample = try RecordConverter(format: .alpaca, path: "t").convert(r.records[0])
        XCTAssertEqual(sample, .conversation([
            ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "q1"),
            ChatMessage(role: "assistant", content: "a1"), ChatMessage(role: "user", content: "Do\nthis"),
            ChatMessage(role: "assistant", content: "done"),
        ]))
    }

    func testShareGPTRoles() throws {
        let r = try readRecords(#"{"conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "h"}, {"from": "function_call", "value": "f"}, {"from": "observation", "value": "o"}, {"from": "gpt", "value": "g"}]}"#)
        let sample = try RecordConverter(format: .sharegpt, path: "t").convert(r.records[0])
        guard case let .conversation(messages, _) = sample else { return XCTFail("not a conversation") }
        XCTAssertEqual(messages.map(\.role), ["system", "user", "assistant", "tool", "assistant"])
        let bad = try readRecords(#"{"conversations": [{"from": "alien", "value": "x"}]}"#)
        XCTAssertThrowsError(try RecordConverter(format: .sharegpt, path: "t").convert(bad.records[0]))
    }

    func testCSVMessagesColumnHoldsJSON() throws {
        let csv = "messages\n\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"hi\"\"}, {\"\"role\"\": \"\"assistant\"\", \"\"content\"\": \"\"yo\"\"}]\"\n"
        let r = try readRecords(csv, csv: true)
        let format = try RecordConverter.resolve(.auto, records: r.records, fields: FieldMapping(), path: "t")
        XCTAssertEqual(format, .messages)
        let sample = try RecordConverter(format: format, path: "t").convert(r.records[0])
        XCTAssertEqual(sample, .conversation([ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "yo")]))
    }

    func testWrongFormatOverrideIsMissingField() throws {
        let r = try readRecords(#"{"text": "plain"}"#)
        assertThrows(.missingField(path: "t.jsonl", line: 1, field: "messages", format: "messages")) {
            _ = try RecordConverter(format: .messages, path: "t.jsonl").convert(r.records[0])
        }
    }
}
