// `tailor train --objective dpo` and `tailor eval --task preference` as a user runs them on tiny-llama: TRL's metric
// names in metrics.jsonl, the precomputed reference reused by --resume, named errors for bad pairs and β.
import Foundation
import XCTest

final class PreferenceCLITests: TailorCLITestCase {
    static let pairs = CLITests.repository.appendingPathComponent("Tests/TailorTrainingTests/Fixtures/dpo/pairs.jsonl").path

    func testFullDPOResumesWithTheCachedReference() throws {
        let settings = ["--model", CLITests.tinyLlama.path, "--data", Self.pairs, "--objective", "dpo", "--method", "full",
                        "--max-steps", "4", "--batch-size", "2", "--save-steps", "1", "--save-total-limit", "5", "--compute-dtype", "f32"]
        let straight = scratch.appendingPathComponent("straight"), resumed = scratch.appendingPathComponent("resumed")
        let run = try tailor(["train"] + settings + ["--out", straight.path])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("12 preference pairs, objective dpo"), run.output)
        XCTAssertTrue(run.output.contains("rewards c"), run.output)
        let metrics = try String(contentsOf: straight.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"] {
            XCTAssertTrue(metrics.contains("\"\(key)\""), "\(key) missing from metrics.jsonl")
        }
        // Keep checkpoint-2 and the cached reference, as if the run died during step 3.
        try FileManager.default.createDirectory(at: resumed, withIntermediateDirectories: true)
        for name in ["checkpoint-2", "metrics.jsonl", "reference_logps.json"] {
            try FileManager.default.copyItem(at: straight.appendingPathComponent(name), to: resumed.appendingPathComponent(name))
        }
        let again = try tailor(["train"] + settings + ["--out", resumed.path, "--resume"])
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("resumed at step 2"), again.output)
        XCTAssertEqual(try String(contentsOf: resumed.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
                        .split(separator: "\n").map { $0.replacingOccurrences(of: #""seconds":[0-9.e-]+,"#, with: "", options: .regularExpression) },
                       metrics.split(separator: "\n").map { $0.replacingOccurrences(of: #""seconds":[0-9.e-]+,"#, with: "", options: .regularExpression) })
    }

    func testBadPairsAndBetaAreNamed() throws {
        let out = scratch.appendingPathComponent("out").path
        let bad = try write(#"{"prompt_ids": [5, 6], "chosen_ids": [7, 2], "rejected_ids": [8, 2]}"# + "\n" +
                            #"{"prompt_ids": [5, 6], "chosen_ids": [7, 2], "rejected_ids": [7, 2]}"# + "\n", "bad.jsonl")
        let base = ["train", "--model", CLITests.tinyLlama.path, "--objective", "dpo", "--out", out]
        try assertFails(base + ["--data", bad], mentioning: ["bad.jsonl:2", "identical"])
        try assertFails(base + ["--data", Self.pairs, "--beta", "0"], mentioning: ["beta"])
        try assertFails(base + ["--data", Self.pairs, "--loss-type", "nope"], mentioning: ["loss_type"])
        let skipped = try tailor(base + ["--data", bad, "--skip-bad", "--max-steps", "1"])
        XCTAssertEqual(skipped.status, 0, skipped.output)
        XCTAssertTrue(skipped.output.contains("skipped 1 bad rows"), skipped.output)
    }

    func testEvalPreferenceWithAnAdapterAgainstTheBase() throws {
        let run = try tailor(["eval", "--model", CLITests.tinyLlama.path, "--adapter", CLITests.tinyLlama.appendingPathComponent("lora-init").path,
                              "--data", Self.pairs, "--task", "preference", "--compare-base"])
        XCTAssertEqual(run.status, 0, run.output)
        for needle in ["chosen more likely", "logps/chosen", "rewards/accuracies", "rewards/margins"] {
            XCTAssertTrue(run.output.contains(needle), "\(needle) missing: \(run.output)")
        }
    }
}
