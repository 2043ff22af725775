// `prepare` with Phi-3's built-in template (`--template phi3`, the text of microsoft/Phi-3.5-mini-instruct): rows are
// rendered with Phi-3's role markers and only the assistant's reply and its <|end|> are trained.
import Foundation
import TailorChat
import XCTest
@testable import TailorData

final class Phi3PrepareTests: XCTestCase {
    func testPrepareRendersPhi3TurnsAndTrainsTheReplyOnly() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("chat.jsonl")
        let row = #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Turquoise blue."}]}"#
        try (row + "\n").write(to: url, atomically: true, encoding: .utf8)
        var o = PrepareOptions()
        o.validationFraction = 0
        let tokenizer = try Fixture.tokenizer()
        let prepared = try DataPipeline.prepare(url, tokenizer: tokenizer, template: try ChatTemplate.builtIn(named: "phi3"), options: o)
        XCTAssertEqual(prepared.report.rowsKept, 1)
        let kept = try XCTUnwrap(prepared.train.first)
        let text = tokenizer.decode(kept.inputIDs.map(Int.init))
        XCTAssertEqual(text, "<|system|>\nBe brief.<|end|>\n<|user|>\nName a colour.<|end|>\n<|assistant|>\nTurquoise blue.<|end|>\n<|endoftext|>", "the template ends a training row with eos_token")
        let trained = tokenizer.decode(kept.labels.filter { $0 != PreparedRow.ignoreIndex }.map(Int.init))
        XCTAssertTrue(trained.hasPrefix("Turquoise blue.<|end|>"), trained)
        XCTAssertFalse(trained.contains("colour"), trained)
    }
}
