// Preference rows tokenized as TRL 1.16.0's DPOTrainer does, with the SmolLM2 tokenizer and chat template.
// Fixture: Fixtures/preference_smollm2.json from tools/reference/dpo_fixtures.py (TRL's own _prepare_dataset).
import Foundation
import TailorChat
import XCTest
@testable import TailorData

final class PreferenceEncoderTests: XCTestCase {
    func testRowsTokenizeAsTRL() throws {
        let rows = try XCTUnwrap(try Fixture.json("preference_smollm2.json")["rows"] as? [[String: Any]])
        let encoder = PreferenceEncoder(tokenizer: try Fixture.tokenizer(), template: try Fixture.template())
        XCTAssertEqual(rows.count, 4)
        for (i, r) in rows.enumerated() {
            let row = try XCTUnwrap(r["row"] as? [String: Any])
            let e = try encoder.encode(try JinjaValue(any: row), path: "fixture", line: i + 1)
            XCTAssertEqual(e.promptIDs, try XCTUnwrap(r["prompt_ids"] as? [Int]).map(Int32.init), "row \(i + 1) prompt")
            XCTAssertEqual(e.chosenIDs, try XCTUnwrap(r["chosen_ids"] as? [Int]).map(Int32.init), "row \(i + 1) chosen")
            XCTAssertEqual(e.rejectedIDs, try XCTUnwrap(r["rejected_ids"] as? [Int]).map(Int32.init), "row \(i + 1) rejected")
        }
    }

    func testMixedOrMissingFieldsAreNamed() throws {
        let encoder = PreferenceEncoder(tokenizer: try Fixture.tokenizer(), template: try Fixture.template())
        XCTAssertThrowsError(try encoder.encode(try JinjaValue(any: ["prompt": "a", "chosen": "b"]), path: "p.jsonl", line: 3)) {
            XCTAssertTrue("\($0)".contains("p.jsonl") && "\($0)".contains("3") && "\($0)".contains("rejected"), "\($0)")
        }
        XCTAssertThrowsError(try encoder.encode(try JinjaValue(any: ["prompt": "a", "chosen": [["role": "assistant", "content": "b"]], "rejected": "c"]),
                                                path: "p.jsonl", line: 4)) {
            XCTAssertTrue("\($0)".contains("must all be strings or all lists of messages"), "\($0)")
        }
    }

    func rows(_ lines: [String]) throws -> URL {
        let url = try temporaryDirectory(self).appendingPathComponent("pairs.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return url
    }

    static let good = [
        #"{"prompt": "Convert March 5, 2024 to ISO:", "chosen": " <b>2024-03-05</b>", "rejected": " Sure! It is 2024-03-05."}"#,
        #"{"prompt": [{"role": "user", "content": "Jan 28, 2004"}], "chosen": [{"role": "assistant", "content": "2004-01-28"}], "rejected": [{"role": "assistant", "content": "The date is 2004/1/28"}]}"#,
        #"{"chosen": "Q: 2+2? A: 4", "rejected": "Q: 2+2? A: five"}"#,
    ]

    /// Cleaned (HTML stripped before tokenizing, duplicates dropped), tokenized as TRL (the fixture's rows above), split,
    /// written as token ids with the SFT report; a long pair cut keeping the start.
    func testPrepareCleansTokenizesAndReports() throws {
        let long = #"{"prompt": "Hi", "chosen": "\#(String(repeating: "yes ", count: 100))", "rejected": "no"}"#
        let url = try rows(Self.good + [Self.good[2], long])
        var o = PrepareOptions()
        o.maxLength = 64
        o.validationFraction = 0
        let prepared = try PreferencePipeline.prepare(url, tokenizer: try Fixture.tokenizer(), template: try Fixture.template(), options: o)
        let r = prepared.report
        XCTAssertEqual(r.format, "preference")
        XCTAssertEqual([r.rowsRead, r.rowsKept, r.rowsDropped, r.truncated], [5, 4, 1, 1])
        XCTAssertEqual(r.rules.first { $0.rule == "exact-duplicate" }?.count, 1)
        XCTAssertEqual(r.rules.first { $0.rule == "html-stripped" }?.count, 1)
        let encoder = PreferenceEncoder(tokenizer: try Fixture.tokenizer(), template: try Fixture.template())
        let stripped = try encoder.encode(try JinjaValue(json: Data(Self.good[0].replacingOccurrences(of: "<b>", with: "").replacingOccurrences(of: "</b>", with: "").utf8)), path: "", line: 1)
        XCTAssertEqual(prepared.train[0], stripped)
        XCTAssertEqual(prepared.train[1], try encoder.encode(try JinjaValue(json: Data(Self.good[1].utf8)), path: "", line: 2))
        let cut = prepared.train[3]
        XCTAssertEqual(cut.promptIDs.count + cut.chosenIDs.count, 64)
        XCTAssertEqual(r.trainedTokens, prepared.train.reduce(0) { $0 + $1.chosenIDs.count + $1.rejectedIDs.count })
        XCTAssertEqual(r.lengthMax, 64)
        let folder = try temporaryDirectory(self).appendingPathComponent("out")
        let written = try PreferencePipeline.write(prepared, to: folder)
        XCTAssertNotNil(written.sampleFile)
        let lines = try String(contentsOf: folder.appendingPathComponent(PreferencePipeline.trainFile), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(try lines.map { try JSONDecoder().decode(PreferencePair.self, from: Data($0.utf8)) }, prepared.train)
        XCTAssertTrue(written.renderText().contains("Rows read 5, kept 4, dropped 1"), written.renderText())
    }

    /// The bad rows of the issue: a reply missing, chosen = rejected, a prompt of max_length tokens or more. Named by file
    /// and line; with skip-bad counted by kind.
    func testBadPairsAreNamedOrCounted() throws {
        let bad = [
            #"{"prompt": "a", "chosen": "b"}"#,
            #"{"prompt": "a", "chosen": "same", "rejected": "same"}"#,
            #"{"prompt": "\#(String(repeating: "word ", count: 80))", "chosen": "b", "rejected": "c"}"#,
        ]
        let tokenizer = try Fixture.tokenizer(), template = try Fixture.template()
        var o = PrepareOptions()
        o.maxLength = 64
        for (i, row) in bad.enumerated() {
            let url = try rows(Self.good + [row])
            XCTAssertThrowsError(try PreferencePipeline.prepare(url, tokenizer: tokenizer, template: template, options: o)) {
                XCTAssertTrue("\($0)".contains("pairs.jsonl:4"), "\($0)")
                XCTAssertTrue("\($0)".contains(["'rejected'", "identical", "max_length 64"][i]), "\($0)")
            }
        }
        o.skipMalformed = true
        let r = try PreferencePipeline.prepare(try rows(Self.good + bad + ["{not json"]), tokenizer: tokenizer, template: template, options: o).report
        XCTAssertEqual([r.rowsRead, r.rowsKept, r.malformedSkipped], [7, 3, 2])
        for kind in ["identical-pair", "prompt-too-long"] { XCTAssertEqual(r.rules.first { $0.rule == kind }?.count, 1, kind) }
    }
}
