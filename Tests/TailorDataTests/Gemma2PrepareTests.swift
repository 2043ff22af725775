// `prepare` with Gemma 2's built-in template (`--template gemma2`, the text of google/gemma-2-2b-it): rows are rendered
// with Gemma's turn markers (the assistant is "model") and only the model's reply and its <end_of_turn> are trained.
import Foundation
import TailorChat
import XCTest
@testable import TailorData

final class Gemma2PrepareTests: XCTestCase {
    func testPrepareRendersGemmaTurnsAndTrainsTheReplyOnly() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("chat.jsonl")
        let row = #"{"messages": [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Turquoise blue."}]}"#
        try (row + "\n").write(to: url, atomically: true, encoding: .utf8)
        var o = PrepareOptions()
        o.validationFraction = 0
        let tokenizer = try Fixture.tokenizer()
        let prepared = try DataPipeline.prepare(url, tokenizer: tokenizer, template: try ChatTemplate.builtIn(named: "gemma2"), options: o)
        XCTAssertEqual(prepared.report.rowsKept, 1)
        let kept = try XCTUnwrap(prepared.train.first)
        let text = tokenizer.decode(kept.inputIDs.map(Int.init))
        XCTAssertTrue(text.hasSuffix("<start_of_turn>user\nName a colour.<end_of_turn>\n<start_of_turn>model\nTurquoise blue.<end_of_turn>\n"), text)
        let trained = tokenizer.decode(kept.labels.filter { $0 != PreparedRow.ignoreIndex }.map(Int.init))
        XCTAssertTrue(trained.hasPrefix("Turquoise blue.<end_of_turn>"), trained)
        XCTAssertFalse(trained.contains("colour"), trained)
    }
}
