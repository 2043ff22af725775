// `tailor train --objective dpo` and `tailor eval --task preference` as a user runs them on tiny-llama: TRL's metric
// names in metrics.jsonl, the precomputed reference reused by --resume, named errors for bad pairs and β.
import Foundation
import XCTest

final class PreferenceCLITests: TailorCLITestCase {
    static let pairs = CLITests.repository.appendingPathComponent("Tests/TailorTrainingTests/Fixtures/dpo/pairs.jsonl").path

    func testFullDPOResumesWithTheCachedReference() throws {
        let settings = ["--model", CLITests.tinyLlama.path, "--data", Self.pairs, "--objective", "dpo", "--method", "full", "--precompute-ref-log-probs", "true",
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

    /// `prepare --format preference` on the shipped preference set: reported like SFT rows, written as token ids that
    /// `eval --task preference` reads, whose "check" regex scores greedy replies; bad pairs named or counted.
    func testPreparePreferenceAndEvalChecks() throws {
        guard let model = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            throw XCTSkip("set TAILOR_SMOLLM2_GGUF")
        }
        let prefs = CLITests.repository.appendingPathComponent("data/dates/prefs_eval.jsonl").path
        let out = scratch.appendingPathComponent("prepared")
        let prepared = try tailor(["prepare", "--model", model, "--data", prefs, "--out", out.path, "--format", "preference"])
        XCTAssertEqual(prepared.status, 0, prepared.output)
        for needle in ["format preference", "Rows read 50, kept 50, dropped 0", "identical-pair", "rejected:", "train.jsonl,validation.jsonl"] {
            XCTAssertTrue(prepared.output.contains(needle), "\(needle) missing: \(prepared.output)")
        }
        let ids = try String(contentsOf: out.appendingPathComponent("train.jsonl"), encoding: .utf8)
        XCTAssertEqual(ids.split(separator: "\n").count, 47)   // 5% held out, rounded up
        let eval = try tailor(["eval", "--model", model, "--data", prefs, "--task", "preference", "--limit", "2", "--max-new-tokens", "12"])
        XCTAssertEqual(eval.status, 0, eval.output)
        XCTAssertTrue(eval.output.contains("greedy reply passes check (%)"), eval.output)
        XCTAssertTrue(eval.output.contains("/2)"), eval.output)

        let bad = try write(#"{"prompt": "a", "chosen": "b", "rejected": "c"}"# + "\n" + #"{"prompt": "a", "chosen": "same", "rejected": "same"}"# + "\n"
                            + #"{"prompt": "a", "chosen": "b"}"# + "\n", "bad.jsonl")
        let base = ["prepare", "--model", model, "--data", bad, "--format", "preference", "--validation-split", "0"]
        try assertFails(base + ["--out", scratch.appendingPathComponent("bad").path], mentioning: ["bad.jsonl:3", "'rejected'"])
        let identical = try write(#"{"prompt": "a", "chosen": "b", "rejected": "c"}"# + "\n" + #"{"prompt": "a", "chosen": "same", "rejected": "same"}"#, "identical.jsonl")
        try assertFails(["prepare", "--model", model, "--data", identical, "--format", "preference", "--out", scratch.appendingPathComponent("i").path],
                        mentioning: ["identical.jsonl:2", "identical", "--skip-bad"])
        try assertFails(base + ["--out", scratch.appendingPathComponent("p").path, "--pack"], mentioning: ["--pack", "preference"])
        let skipped = try tailor(base + ["--out", scratch.appendingPathComponent("skipped").path, "--skip-bad"])
        XCTAssertEqual(skipped.status, 0, skipped.output)
        XCTAssertTrue(skipped.output.contains("Rows read 3, kept 1, dropped 2, malformed skipped 1"), skipped.output)
    }

    func testChecksNeedATokenizer() throws {
        let rows = try write(#"{"prompt_ids": [5, 6], "chosen_ids": [7, 2], "rejected_ids": [8, 2], "check": {"regex": "^7$"}}"# + "\n", "checked.jsonl")
        try assertFails(["eval", "--model", CLITests.tinyLlama.path, "--data", rows, "--task", "preference"], mentioning: ["checked.jsonl", "check", "tokenizer"])
        let broken = try write(#"{"prompt_ids": [5, 6], "chosen_ids": [7, 2], "rejected_ids": [8, 2], "check": {"regex": "(["}}"# + "\n", "broken.jsonl")
        try assertFails(["eval", "--model", CLITests.tinyLlama.path, "--data", broken, "--task", "preference"], mentioning: ["broken.jsonl:1", "check"])
    }
}
