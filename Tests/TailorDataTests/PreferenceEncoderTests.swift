// Preference rows tokenized as TRL 1.16.0's DPOTrainer does, with the SmolLM2 tokenizer and chat template.
// Fixture: Fixtures/preference_smollm2.json from tools/reference/dpo_fixtures.py (TRL's own _prepare_dataset).
import Foundation
import XCTest
@testable import TailorData

final class PreferenceEncoderTests: XCTestCase {
    func testRowsTokenizeAsTRL() throws {
        let rows = try XCTUnwrap(try Fixture.json("preference_smollm2.json")["rows"] as? [[String: Any]])
        let encoder = PreferenceEncoder(tokenizer: try Fixture.tokenizer(), template: try Fixture.template())
        XCTAssertEqual(rows.count, 4)
        for (i, r) in rows.enumerated() {
            let row = try XCTUnwrap(r["row"] as? [String: Any])
            let e = try encoder.encode(row, path: "fixture", line: i + 1)
            XCTAssertEqual(e.promptIDs, try XCTUnwrap(r["prompt_ids"] as? [Int]).map(Int32.init), "row \(i + 1) prompt")
            XCTAssertEqual(e.chosenIDs, try XCTUnwrap(r["chosen_ids"] as? [Int]).map(Int32.init), "row \(i + 1) chosen")
            XCTAssertEqual(e.rejectedIDs, try XCTUnwrap(r["rejected_ids"] as? [Int]).map(Int32.init), "row \(i + 1) rejected")
        }
    }

    func testMixedOrMissingFieldsAreNamed() throws {
        let encoder = PreferenceEncoder(tokenizer: try Fixture.tokenizer(), template: try Fixture.template())
        XCTAssertThrowsError(try encoder.encode(["prompt": "a", "chosen": "b"], path: "p.jsonl", line: 3)) {
            XCTAssertTrue("\($0)".contains("p.jsonl") && "\($0)".contains("3") && "\($0)".contains("rejected"), "\($0)")
        }
        XCTAssertThrowsError(try encoder.encode(["prompt": "a", "chosen": [["role": "assistant", "content": "b"]], "rejected": "c"],
                                                path: "p.jsonl", line: 4)) {
            XCTAssertTrue("\($0)".contains("must all be strings or all lists of messages"), "\($0)")
        }
    }
}
