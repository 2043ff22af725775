// `tailor train` as a user watches it: the progress line, the end-of-run summary (numbers equal metrics.jsonl),
// report.html and TensorBoard event files with --report-to tensorboard; a bad report_to is a named error.
import Foundation
import XCTest

final class TrainReportCLITests: TailorCLITestCase {
    func testTrainWritesReportSummaryAndTensorBoard() throws {
        var rows = ""
        for i in 0..<12 { rows += "{\"input_ids\": [\((0..<(5 + i % 4)).map { String(($0 * 31 + i * 7) % 250 + 1) }.joined(separator: ", "))]}\n" }
        let data = try write(rows, "train.jsonl"), held = try write(rows.split(separator: "\n").prefix(3).joined(separator: "\n") + "\n", "held.jsonl")
        let out = scratch.appendingPathComponent("run")
        let base = ["train", "--model", CLITests.tinyLlama.path, "--data", data, "--eval-data", held, "--method", "lora",
                    "--max-steps", "4", "--batch-size", "2", "--eval-steps", "2"]
        try assertFails(base + ["--out", out.path, "--report-to", "wandb"], mentioning: ["report_to", "wandb"])
        let run = try tailor(base + ["--out", out.path, "--report-to", "tensorboard"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("\"learning_rate\" : 0.0002"), "the default is printed: \(run.output)")
        XCTAssertTrue(run.output.contains("step 2/4  epoch 0.33"), run.output)
        XCTAssertTrue(run.output.contains("grad_norm"), run.output)
        XCTAssertTrue(run.output.contains("elapsed"), run.output)

        let records = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let tokens = records.reduce(0) { $0 + (($1["tokens"] as? NSNumber)?.intValue ?? 0) }
        let finalLoss = try XCTUnwrap((records.last?["loss"] as? NSNumber)?.doubleValue)
        let evalLosses = records.compactMap { ($0["eval_loss"] as? NSNumber)?.doubleValue }
        XCTAssertEqual(evalLosses.count, 2)
        let summary = try XCTUnwrap(run.output.components(separatedBy: "run summary").last)
        XCTAssertTrue(summary.contains("tokens         \(tokens)\n"), summary)
        XCTAssertTrue(summary.contains(String(format: "final %.4f", finalLoss)), summary)
        XCTAssertTrue(summary.contains(String(format: "eval loss      final %.4f, best %.4f", evalLosses[1], evalLosses.min() ?? 0)), summary)
        XCTAssertTrue(summary.contains("samples        8\n"), summary)

        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("status <b>finished</b>"))
        XCTAssertTrue(html.contains("data-series=\"eval/loss\""))
        let events = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("runs").path)
        XCTAssertEqual(events.filter { $0.hasPrefix("events.out.tfevents.") }.count, 1, "\(events)")
        let saved = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: out.appendingPathComponent("training_config.json"))) as? [String: Any])
        XCTAssertEqual((saved["learning_rate"] as? NSNumber)?.doubleValue, 2e-4)
        XCTAssertEqual(saved["report_to"] as? String, "tensorboard")
    }
}
