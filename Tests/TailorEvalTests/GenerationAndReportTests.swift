// Batched generation against one-at-a-time generation, scoring outcomes, reports, latency statistics.
import Foundation
import TailorEval
import TailorKernels
import TailorMetrics
import TailorModels
import TailorTestSupport
import XCTest

final class GenerationAndReportTests: XCTestCase {
    /// Left-padded batches with explicit positions must pick the same greedy tokens as `LlamaModel.generate` (which
    /// TailorModelsTests checks against transformers), including rows that stop early.
    func testBatchedGreedyEqualsSequential() throws {
        for name in ["tiny-llama", "tiny-qwen2"] {
            let model = try Fixtures.tinyModel(name).model
            var rng = SeededGenerator(seed: 11)
            let prompts: [[Int32]] = [3, 9, 1, 6, 12, 5].map { n in (0..<n).map { _ in Int32(3 + rng.next() % 250) } }
            let sequential = prompts.map {
                model.generate(prompt: $0, options: GenerationOptions(maxNewTokens: 8), backend: CPUBackend())
            }
            // A stop token taken from one row's output makes that row finish early in the batched run too.
            let stop: Set<Int32> = [sequential[2][3]]
            let stopped = prompts.map {
                model.generate(prompt: $0, options: GenerationOptions(maxNewTokens: 8, stopTokens: stop), backend: CPUBackend())
            }
            for batchSize in [1, 4, 6] {
                let batched = BatchedGeneration.generate(prompts: prompts, model: model, options: GenerationOptions(maxNewTokens: 8),
                                                         batchSize: batchSize, backend: CPUBackend())
                XCTAssertEqual(batched, sequential, "\(name) batch \(batchSize)")
                let batchedStop = BatchedGeneration.generate(prompts: prompts, model: model,
                                                             options: GenerationOptions(maxNewTokens: 8, stopTokens: stop),
                                                             batchSize: batchSize, backend: CPUBackend())
                XCTAssertEqual(batchedStop, stopped, "\(name) batch \(batchSize) with a stop token")
            }
        }
    }

    func testScorerMarksWrongExamples() throws {
        let examples = ["positive", "negative", "positive"].enumerated().map { i, label in
            EvalExample(line: i + 1, messages: [.init(role: "user", content: "review \(i)")], references: [label])
        }
        let scored = try TaskScorer.score(task: .classification, examples: examples, predictions: ["positive.", "positive", " positive "])
        XCTAssertEqual(scored.outcomes.map(\.correct), [true, false, true])
        // Same value as TailorMetrics gives for the cleaned labels.
        let expected = try ClassificationMetrics.compute(predictions: ["positive", "positive", "positive"],
                                                         references: ["positive", "negative", "positive"])
        XCTAssertEqual(scored.scores.first { $0.name == "accuracy" }?.value, expected.accuracy)
        let qa = try TaskScorer.score(task: .qa, examples: examples, predictions: ["The positive", "no", "positive"])
        XCTAssertEqual(qa.outcomes.map(\.correct), [true, false, true])   // SQuAD normalisation drops "the"
        let json = try TaskScorer.score(task: .json, examples: examples.map {
            var e = $0
            e.references = ["{\"a\": 1, \"b\": 2}"]
            return e
        }, predictions: ["{\"a\": 1, \"b\": 2}", "not json", "{\"a\": 1, \"b\": 3}"])
        XCTAssertEqual(json.outcomes.map(\.correct), [true, false, false])
        XCTAssertEqual(json.outcomes[2].note, "1/2 fields match")
        XCTAssertThrowsError(try TaskScorer.score(task: .loss, examples: examples, predictions: ["", "", ""]))
    }

    func testReportDeltasForgettingAndPages() throws {
        func run(_ label: String, acc: Double) -> EvalRun {
            var summary = MultipleChoiceSummary(outcomes: [])
            summary.count = 10
            summary.accuracy = acc
            summary.accuracyNormalized = acc
            return EvalRun(label: label, count: 10,
                           scores: [MetricScore(name: "acc", value: acc, unit: "fraction"),
                                    MetricScore(name: "acc_norm", value: acc, unit: "fraction")],
                           examples: [ExampleOutcome(line: 4, prompt: "2 < 3?", references: ["yes"], prediction: "no & <b>", correct: false)],
                           multipleChoice: summary, notes: [], seconds: 1)
        }
        let report = EvalReport(task: .multipleChoice, data: "mc.jsonl", model: "m", adapter: "a",
                                tuned: run("tuned", acc: 0.5), base: run("base", acc: 0.7))
        XCTAssertEqual(report.deltas.map(\.name), ["acc", "acc_norm"])
        XCTAssertEqual(report.deltas[0].delta, -0.2, accuracy: 1e-12)
        XCTAssertFalse(report.deltas[0].improved)
        XCTAssertEqual(report.forgetting?.flagged, true)
        let table = report.renderTable()
        XCTAssertTrue(table.contains("-20.0 pt"), table)
        XCTAssertTrue(table.contains("FORGETTING"), table)
        let html = report.renderHTML()
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertEqual(html.components(separatedBy: "<rect").count - 1, 2 * 2)   // 2 metrics × 2 runs
        XCTAssertTrue(html.contains("class=\"legend\""))
        XCTAssertFalse(html.contains("fraction"), "fractions read as percentages")
        XCTAssertTrue(html.contains("no &amp; &lt;b&gt;"), "prediction text is escaped")
        XCTAssertFalse(html.contains("no & <b>"))
        let decoded = try JSONDecoder().decode(EvalReport.self, from: report.jsonData())
        XCTAssertEqual(decoded, report)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-eval-report-\(UUID().uuidString)")
        let files = try report.write(to: dir)
        XCTAssertTrue(FileManager.default.fileExists(atPath: files.html.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: files.json.path))
    }

    func testPercentilesMatchNumpy() throws {
        struct Case: Decodable { var values: [Double]; var p50: Double; var p99: Double; var mean: Double }
        struct File: Decodable { var cases: [Case] }
        for c in try Fixtures.decode(File.self, "percentiles.json").cases {
            let s = LatencyStatistics(c.values)
            // numpy interpolates in f64 as we do; only the rounding of the rank product can differ.
            XCTAssertEqual(s.p50, c.p50, accuracy: 1e-12 * max(1, abs(c.p50)))
            XCTAssertEqual(s.p99, c.p99, accuracy: 1e-12 * max(1, abs(c.p99)))
            XCTAssertEqual(s.mean, c.mean, accuracy: 1e-12 * max(1, abs(c.mean)))
        }
    }

    /// Structure only: wall times are never asserted.
    func testLatencyBenchmarkCountsTokens() throws {
        let model = try Fixtures.tinyModel("tiny-llama").model
        let report = try LatencyBenchmark.run(model: model, options: LatencyOptions(promptTokens: 6, newTokens: 4, runs: 3,
                                                                                     warmupRuns: 1), backend: CPUBackend())
        XCTAssertEqual(report.timeToFirstToken.count, 3)
        XCTAssertEqual(report.perToken.count, 3 * 3)
        XCTAssertGreaterThan(report.peakResidentBytes, 0)
        XCTAssertEqual(report.kvCacheBytes, 2 * 2 * 10 * 2 * 16 * 4)   // K and V, L=2, 10 slots, G=2, D=16, f32
        XCTAssertTrue(LatencyBenchmark.renderTable(report).contains("per-token latency P99"))
        XCTAssertThrowsError(try LatencyBenchmark.run(model: model, options: LatencyOptions(runs: 0), backend: CPUBackend()))
        // A prompt past the context is refused before anything is allocated for it (overflowing sums too).
        let context = model.configuration.contextLength
        for (prompt, new) in [(context, 1), (Int.max, 1), (99_999_999_999, 4)] {
            XCTAssertThrowsError(try LatencyBenchmark.run(model: model, options: LatencyOptions(promptTokens: prompt, newTokens: new),
                                                          backend: CPUBackend())) { error in
                XCTAssertTrue("\(error)".contains("context"), "\(error)")
            }
        }
    }
}
