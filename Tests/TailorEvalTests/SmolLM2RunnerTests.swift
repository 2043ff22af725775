// End to end on SmolLM2 (skipped unless TAILOR_SMOLLM2_GGUF is set): the shipped multiple-choice set and a
// generating task through EvalRunner.
import Foundation
import TailorEval
import TailorModels
import XCTest

final class SmolLM2RunnerTests: XCTestCase {
    func testMultipleChoiceSetAccuracyMatchesTransformers() throws {
        let gguf = try Fixtures.smolLM2()
        let fixture = try Fixtures.decode(SmolMCFixture.self, "mc_smollm2.json")
        let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = repo.appendingPathComponent("data/eval/multiple-choice/basics.jsonl")
        guard FileManager.default.fileExists(atPath: data.path) else { throw XCTSkip("\(data.path) not found") }
        let chat = try ChatModel(loaded: LoadedModel.load(from: gguf))
        let run = try EvalRunner.run(EvalConfiguration(task: .multipleChoice, data: data), model: chat, label: "base")
        XCTAssertEqual(run.count, fixture.full_set.count)
        // Our GGUF tokenizer splits digits one by one (llama.cpp's "smollm" pre-tokenizer) and transformers' GGUF
        // conversion does not, so the 15 arithmetic and some units questions are scored on different ids: allow two
        // questions either way.
        let slack = 2.0 / Double(run.count) + 1e-9
        XCTAssertEqual(try XCTUnwrap(run.value("acc")), fixture.full_set.acc, accuracy: slack)
        XCTAssertEqual(try XCTUnwrap(run.value("acc_norm")), fixture.full_set.acc_norm, accuracy: slack)
        let report = EvalReport(task: .multipleChoice, data: data.path, model: gguf.path, adapter: nil, tuned: run)
        print(report.renderTable(examples: 0))
    }

    func testGenerationRunProducesScoredOutcomes() throws {
        let gguf = try Fixtures.smolLM2()
        let data = try Fixtures.temporary("""
        {"prompt": "What is the capital of France? Answer with one word.", "reference": "Paris"}
        {"messages": [{"role": "user", "content": "Name a color of the sky."}, {"role": "assistant", "content": "blue"}]}
        """)
        let chat = try ChatModel(loaded: LoadedModel.load(from: gguf))
        let config = EvalConfiguration(task: .qa, data: data, maxNewTokens: 12, batchSize: 2)
        let run = try EvalRunner.run(config, model: chat, label: "model")
        XCTAssertEqual(run.count, 2)
        XCTAssertEqual(run.scores.map(\.name), ["exact_match", "f1", "answer_loss"])
        // Only wrong answers are listed; each names its line and carries the model's (non-empty) reply.
        for example in run.examples {
            XCTAssertTrue([1, 2].contains(example.line), "line \(example.line)")
            XCTAssertFalse(example.prediction.isEmpty, "line \(example.line): empty reply")
        }
    }
}
