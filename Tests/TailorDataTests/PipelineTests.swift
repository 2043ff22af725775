// End to end: file → prepare → write → read back, the report in its three forms, and the example dataset.
import Foundation
import TailorChat
import XCTest
@testable import TailorData

final class PipelineTests: XCTestCase {
    func write(_ lines: [String], _ name: String = "d.jsonl") throws -> URL {
        let url = try temporaryDirectory(self).appendingPathComponent(name)
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return url
    }

    func chat(_ q: String, _ a: String) -> String {
        #"{"messages": [{"role": "user", "content": "\#(q)"}, {"role": "assistant", "content": "\#(a)"}]}"#
    }

    func testPrepareWriteAndReadBack() throws {
        var lines = (0..<40).map { chat("Question \($0)?", "Answer number \($0).") }
        lines += [chat("Question 1?", "Answer number 1."), chat("<b>bold</b> q", "fine &amp; dandy"), chat("mail x@y.org", "ok"),
                  chat("empty", " "), "{not json"]
        let url = try write(lines)
        var o = PrepareOptions()
        o.skipMalformed = true
        o.validationFraction = 0.1
        o.sampleCount = 5
        let prepared = try DataPipeline.prepare(url, tokenizer: try Fixture.tokenizer(), template: try Fixture.template(), options: o)
        let r = prepared.report
        XCTAssertEqual(r.format, "messages")
        XCTAssertEqual(r.rowsRead, 45)
        XCTAssertEqual(r.malformedSkipped, 1)
        XCTAssertEqual(r.rules.first { $0.rule == "exact-duplicate" }?.count, 1)
        XCTAssertEqual(r.rules.first { $0.rule == "empty-response" }?.count, 1)
        XCTAssertEqual(r.rules.first { $0.rule == "html-stripped" }?.count, 1)
        XCTAssertEqual(r.rules.first { $0.rule == "sensitive:email" }?.count, 1)
        XCTAssertEqual(r.rowsKept, 42)
        XCTAssertEqual(r.validationSamples, 5, "ceil(42 · 0.1)")
        XCTAssertEqual(r.trainSamples + r.validationSamples, r.rowsKept)
        XCTAssertEqual(r.examples.count, 3)
        XCTAssertTrue(r.examples[0].spans.contains { $0.trained && $0.text == "Answer number 0.<|im_end|>" })
        XCTAssertEqual(prepared.spotSample.count, 5)
        XCTAssertEqual(r.trainedTokens + r.maskedTokens, (prepared.train + prepared.validation).reduce(0) { $0 + $1.count })

        let out = try temporaryDirectory(self).appendingPathComponent("out")
        let written = try DataPipeline.write(prepared, to: out)
        XCTAssertEqual(try PreparedDataset.read(out.appendingPathComponent("train.tdata")), prepared.train)
        XCTAssertEqual(try PreparedDataset.read(out.appendingPathComponent("validation.tdata")), prepared.validation)
        let decoded = try JSONDecoder().decode(PrepareReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        XCTAssertEqual(decoded, written)
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<svg") && html.contains("<span class=\"t\">") && html.contains("&lt;|im_start|&gt;"))
        XCTAssertTrue(html.contains("class=\"y-axis\"") && html.contains(">rows</text>"), "the histogram has a counted y axis")
        let sample = try String(contentsOf: out.appendingPathComponent("sample.jsonl"), encoding: .utf8)
        XCTAssertEqual(sample.split(separator: "\n").count, 5)
        let text = written.renderText()
        XCTAssertTrue(text.contains("[[Answer number 0.<|im_end|>]]"))
        XCTAssertTrue(text.contains("exact-duplicate"))
        XCTAssertTrue(written.renderText(ansi: true).contains("\u{1B}[1;32m"))
    }

    func testMalformedLineFailsWithoutSkip() throws {
        let url = try write([chat("a", "b"), "{broken"])
        XCTAssertThrowsError(try DataPipeline.prepare(url, tokenizer: try Fixture.tokenizer(), template: try Fixture.template(), options: PrepareOptions())) { error in
            guard case let DataError.malformedRecord(path, line, _)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
            XCTAssertEqual(line, 2)
        }
    }

    func testTruncationAndPackingThroughPipeline() throws {
        let url = try write((0..<30).map { #"{"text": "Sample \#($0) has a few words in it."}"# } + [#"{"text": "\#(String(repeating: "long text ", count: 40))"}"#])
        var o = PrepareOptions()
        o.maxLength = 32
        o.pack = true
        o.validationFraction = 0
        let prepared = try DataPipeline.prepare(url, tokenizer: try Fixture.tokenizer(), template: nil, options: o)
        XCTAssertEqual(prepared.report.format, "text")
        XCTAssertEqual(prepared.report.truncated, 1)
        XCTAssertEqual(prepared.report.trainSamples, 31)
        XCTAssertLessThan(prepared.train.count, 31)
        XCTAssertTrue(prepared.train.allSatisfy { $0.count <= 32 && $0.segments != nil && $0.positions != nil })
        XCTAssertEqual(prepared.validation, [])
        // Every segment start is masked, everything else in a text row is trained.
        let starts = prepared.train.reduce(0) { $0 + Set($1.segments ?? []).count }
        XCTAssertEqual(prepared.report.maskedTokens, starts)
    }

    func testPromptCompletionCSV() throws {
        let url = try write(["prompt,completion", "\"2+2=\",4", "\"Capital of Peru?\",Lima"], "d.csv")
        var o = PrepareOptions()
        o.validationFraction = 0
        let prepared = try DataPipeline.prepare(url, tokenizer: try Fixture.tokenizer(), template: nil, options: o)
        XCTAssertEqual(prepared.report.container, "csv")
        XCTAssertEqual(prepared.report.format, "prompt-completion")
        XCTAssertEqual(prepared.train.count, 2)
        XCTAssertTrue(prepared.train.allSatisfy { $0.labels.last == 2 && $0.labels.first == -100 })
    }

    /// The README's example dataset: 200 conversations in messages format, all kept, none flagged.
    func testExampleDataset() throws {
        let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        let url = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/examples/smoltalk-style.jsonl")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("data/examples not found from \(here.path)") }
        let prepared = try DataPipeline.prepare(url, tokenizer: try Fixture.tokenizer(), template: try Fixture.template(), options: PrepareOptions())
        let r = prepared.report
        XCTAssertEqual(r.rowsRead, 200)
        XCTAssertEqual(r.format, "messages")
        XCTAssertEqual(r.rowsKept, 200)
        XCTAssertEqual(r.rules.filter { $0.rule.hasPrefix("sensitive") || $0.rule == "prompt-injection" }.map(\.count).reduce(0, +), 0)
        XCTAssertEqual(r.validationSamples, 10)
        XCTAssertEqual(r.truncated, 0)
    }

    func testAlpacaJSONArrayAndSeededSpotSample() throws {
        let records = (0..<30).map { #"{"instruction": "Add \#($0) and 1", "input": "", "output": "\#($0 + 1)"}"# }
        let url = try write(["[", records.joined(separator: ",\n"), "]"], "d.json")
        var o = PrepareOptions()
        o.sampleCount = 7
        let tokenizer = try Fixture.tokenizer(), template = try Fixture.template()
        let a = try DataPipeline.prepare(url, tokenizer: tokenizer, template: template, options: o)
        XCTAssertEqual(a.report.container, "json")
        XCTAssertEqual(a.report.format, "alpaca")
        XCTAssertEqual(a.report.rowsKept, 30)
        XCTAssertEqual(a.spotSample.count, 7)
        XCTAssertEqual(a.spotSample, try DataPipeline.prepare(url, tokenizer: tokenizer, template: template, options: o).spotSample)
        o.seed = 43
        let b = try DataPipeline.prepare(url, tokenizer: tokenizer, template: template, options: o)
        XCTAssertNotEqual(a.spotSample, b.spotSample)
        XCTAssertNotEqual(a.validation, b.validation)
        // Line numbers in the spot sample are the records' own (line 2 holds the first element).
        XCTAssertTrue(a.spotSample.allSatisfy { if case let .int(line)? = $0["line"] { return (2...31).contains(line) } else { return false } })
    }
}
