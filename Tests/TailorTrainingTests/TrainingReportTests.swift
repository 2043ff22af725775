// A short real run on tiny-llama: the end-of-run summary equals what metrics.jsonl holds, report.html charts every
// metric on axes with ticks, the saved configuration spells out defaults, and TensorBoard scalars match the file.
import Foundation
import XCTest
import TailorKernels
import TailorModels
import TailorTraining

final class TrainingReportTests: XCTestCase {
    /// 6 steps of LoRA with evaluation every 2 steps and the learning rate left at its default.
    func run() throws -> (Trainer, URL) {
        let (model, config, rows, _) = try TrajectoryTests.load("tiny-llama")
        var c = TrajectoryTests.configuration(.lora, learningRate: 1e-3, initAdapter: nil)
        c.learningRate = nil
        c.maxSteps = 6
        c.evalSteps = 2
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-report-\(UUID())")
        var trainer = try Trainer(model: model, modelConfig: config, baseModelName: "tiny", configuration: c,
                                  train: rows, evaluation: Array(rows.prefix(3)), outputDirectory: out, padID: 0,
                                  backend: CPUBackend())
        try trainer.run()
        return (trainer, out)
    }

    func testSummaryEqualsTheMetricsFile() throws {
        let (trainer, out) = try run()
        defer { try? FileManager.default.removeItem(at: out) }
        // Read metrics.jsonl without StepRecord, as a user's script would.
        let text = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let rows = try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(rows.count, 6)
        func number(_ row: [String: Any], _ key: String) -> Double? { (row[key] as? NSNumber)?.doubleValue }
        let summary = try XCTUnwrap(TrainingSummary(records: StepRecord.readLog(out.appendingPathComponent("metrics.jsonl"))))
        XCTAssertEqual(summary.steps, 6)
        XCTAssertEqual(summary.tokens, rows.reduce(0) { $0 + Int(number($1, "tokens") ?? 0) })
        XCTAssertEqual(summary.samples, rows.reduce(0) { $0 + Int(number($1, "samples") ?? 0) })
        XCTAssertEqual(summary.samples, 6 * 2 * 2, "batch 2 × accumulation 2 rows per step")
        let trainSeconds = rows.reduce(0.0) { $0 + (number($1, "seconds") ?? 0) }
        XCTAssertEqual(summary.trainSeconds, trainSeconds, accuracy: 1e-12)
        XCTAssertEqual(summary.evalSeconds, rows.reduce(0.0) { $0 + (number($1, "eval_seconds") ?? 0) }, accuracy: 1e-12)
        XCTAssertGreaterThan(summary.evalSeconds, 0)
        // JSONSerialization on Linux may round the 17th digit differently from the shortest form JSONEncoder wrote
        // (and StepRecord reads back exactly), so losses read both ways agree to 1e-14, not bit for bit.
        func assertSame(_ a: Double?, _ b: Double?, _ what: String) {
            guard let a, let b else { return XCTAssertEqual(a, b, what) }
            XCTAssertEqual(a, b, accuracy: 1e-14 * abs(b), what)
        }
        let losses = rows.compactMap { number($0, "loss") }
        assertSame(summary.finalTrainLoss, losses.last, "final train loss")
        XCTAssertEqual(summary.meanTrainLoss, losses.reduce(0, +) / 6, accuracy: 1e-12)
        assertSame(summary.bestTrainLoss?.loss, losses.min(), "best train loss")
        let evals = rows.compactMap { number($0, "eval_loss") }
        XCTAssertEqual(evals.count, 3)
        assertSame(summary.finalEvalLoss, evals.last, "final eval loss")
        assertSame(summary.bestEvalLoss?.loss, evals.min(), "best eval loss")
        XCTAssertEqual(summary.tokensPerSecond, Double(summary.tokens) / trainSeconds, accuracy: 1e-9)
        XCTAssertEqual(summary.peakMemoryBytes.map(Double.init), rows.compactMap { number($0, "peak_memory_bytes") }.max())
        // JSONSerialization on Linux may round the 17th digit differently from the shortest form JSONEncoder wrote.
        for (ours, read) in zip(trainer.history.map(\.loss), losses) { XCTAssertEqual(ours, read, accuracy: 1e-14 * abs(read)) }
        // The printed lines carry the same numbers.
        let printed = Dictionary(uniqueKeysWithValues: summary.lines(wallSeconds: 12.5))
        XCTAssertEqual(printed["runtime"], "12.5 s")
        XCTAssertEqual(printed["tokens"]?.replacingOccurrences(of: ",", with: ""), String(summary.tokens))
        XCTAssertTrue(printed["train loss"]?.contains(String(format: "final %.4f", losses[5])) == true, "\(printed)")
        XCTAssertTrue(printed["eval loss"]?.contains(String(format: "final %.4f", evals[2])) == true, "\(printed)")
    }

    func testDefaultLearningRateIsSavedAndTheReportChartsEveryMetric() throws {
        let (trainer, out) = try run()
        defer { try? FileManager.default.removeItem(at: out) }
        XCTAssertEqual(trainer.configuration.learningRate, 2e-4, "LoRA's default is resolved before the run")
        let saved = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("training_config.json"))) as? [String: Any])
        XCTAssertEqual((saved["learning_rate"] as? NSNumber)?.doubleValue, 2e-4)
        XCTAssertEqual(saved["gradient_checkpointing"] as? Bool, false)

        let report = TrainingReport(model: "tiny", data: "train.jsonl", configuration: trainer.configuration,
                                    preflight: ["warning data-size: 16 training rows"],
                                    records: try StepRecord.readLog(out.appendingPathComponent("metrics.jsonl")),
                                    totalSteps: 6, finished: true)
        try report.write(to: out)
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        func count(_ s: String) -> Int { html.components(separatedBy: s).count - 1 }
        XCTAssertEqual(count("<svg"), 5, "loss, learning rate, grad norm, tokens/s, memory")
        XCTAssertEqual(count("class=\"x-axis\""), 5)
        XCTAssertEqual(count("class=\"y-axis\""), 5)
        XCTAssertGreaterThanOrEqual(count("class=\"tick\""), 5 * 4)
        for series in ["train/loss", "eval/loss", "train/learning_rate", "train/grad_norm", "tokens/s", "peak memory"] {
            XCTAssertEqual(count("data-series=\"\(series)\""), 1, series)
        }
        XCTAssertTrue(html.contains(">ep 0."), "epochs under the step ticks")
        for key in TrainingConfiguration.keys { XCTAssertTrue(html.contains("<th>\(key)</th>"), key) }
        XCTAssertTrue(html.contains("<th>learning_rate</th><td>0.0002</td>"))
        XCTAssertTrue(html.contains("16 training rows"))
        XCTAssertFalse(html.contains("<script"))
    }

    func testTensorBoardScalarsMatchTheRecords() throws {
        let (trainer, out) = try run()
        defer { try? FileManager.default.removeItem(at: out) }
        let writer = try TensorBoardWriter(directory: out.appendingPathComponent("runs"))
        for r in trainer.history { try writer.add(r) }
        try writer.close()
        let scalars = try TensorBoardTests.readScalars(writer.file)
        XCTAssertEqual(scalars["train/loss"]?.map(\.step), Array(1...6))
        XCTAssertEqual(scalars["eval/loss"]?.map(\.step), [2, 4, 6])
        for r in trainer.history {
            for (tag, value) in TensorBoardWriter.scalars(of: r) {
                XCTAssertEqual(scalars[tag]?.first { $0.step == r.step }?.value, Float(value), "\(tag) step \(r.step)")
            }
        }
    }
}
