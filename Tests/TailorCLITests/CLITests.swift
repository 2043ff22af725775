// The `tailor` executable as a user runs it: bad input gives a named error and a non-zero exit, never a crash;
// a killed training run resumes and reproduces the uninterrupted one.
import Foundation
import XCTest

final class CLITests: TailorCLITestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static let tinyLlama = repository.appendingPathComponent("Tests/TailorModelsTests/Fixtures/tiny-llama")
    static let tinyQwen = repository.appendingPathComponent("Tests/TailorModelsTests/Fixtures/tiny-qwen2")

    func testBadModelFilesGiveNamedErrors() throws {
        try assertFails(["inspect", "--model", scratch.appendingPathComponent("nope.gguf").path], mentioning: ["nope.gguf"])
        let truncated = scratch.appendingPathComponent("truncated.gguf")
        try Data([0x47, 0x47, 0x55, 0x46, 3, 0, 0]).write(to: truncated)
        try assertFails(["inspect", "--model", truncated.path], mentioning: ["truncated.gguf"])
        let badMagic = scratch.appendingPathComponent("magic.gguf")
        try Data(repeating: 7, count: 64).write(to: badMagic)
        try assertFails(["score", "--model", badMagic.path, "--ids", "1,2"], mentioning: ["magic.gguf"])
        let folder = scratch.appendingPathComponent("broken-model")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.tinyLlama.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        try Data([16, 0, 0, 0, 0, 0, 0, 0]).write(to: folder.appendingPathComponent("model.safetensors"))
        try assertFails(["inspect", "--model", folder.path], mentioning: ["model.safetensors"])
    }

    func testBadScoreInputs() throws {
        try assertFails(["score", "--model", Self.tinyLlama.path, "--ids", "1,x"], mentioning: ["'x'"])
        try assertFails(["score", "--model", Self.tinyLlama.path, "--ids", "1,99999"], mentioning: ["99999", "vocabulary"])
        let ok = try tailor(["score", "--model", Self.tinyLlama.path, "--ids", "1,2,3,4", "--json"])
        XCTAssertEqual(ok.status, 0, ok.output)
        XCTAssertTrue(ok.output.contains("\"perplexity\""), ok.output)
    }

    func testScoreInBF16IsCloseToF32() throws {
        try assertFails(["score", "--model", Self.tinyLlama.path, "--ids", "1,2", "--compute-dtype", "f8"], mentioning: ["f8"])
        func nll(_ dtype: String) throws -> Double {
            let run = try tailor(["score", "--model", Self.tinyLlama.path, "--ids", "1,2,3,4,5,6,7,8", "--json", "--compute-dtype", dtype])
            XCTAssertEqual(run.status, 0, run.output)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], run.output)
            return try XCTUnwrap(json["meanNLL"] as? Double, run.output)
        }
        let f32 = try nll("f32"), bf16 = try nll("bf16")
        // bf16 products move a mean NLL of a few nats by rounding only (8e-4 relative measured here, 3e-4 on SmolLM2).
        XCTAssertEqual(bf16, f32, accuracy: 5e-3 * f32)
        XCTAssertNotEqual(bf16, f32, "bf16 must really round")
    }

    func testBadTrainingConfigurationsFailBeforeAnyWork() throws {
        let data = try write("{\"input_ids\": [1, 2, 3, 4]}\n{\"input_ids\": [5, 6, 7]}\n", "train.jsonl")
        let base = ["train", "--model", Self.tinyLlama.path, "--data", data, "--out", scratch.appendingPathComponent("out").path]
        try assertFails(base + ["--lora-r", "0"], mentioning: ["lora_r"])
        try assertFails(base + ["--learning-rate=-0.1"], mentioning: ["learning_rate"])
        try assertFails(base + ["--gradient-accumulation-steps", "0"], mentioning: ["gradient_accumulation_steps"])
        let recipe = try write("lora_r: 8\nlearnign_rate: 1e-4\n", "recipe.yaml")
        try assertFails(base + ["--config", recipe], mentioning: ["learnign_rate", "recipe.yaml"])
        // An adapter whose config says r = 8 while its tensors have rank 4: shapes do not fit the model.
        let adapter = scratch.appendingPathComponent("adapter")
        try FileManager.default.copyItem(at: Self.tinyLlama.appendingPathComponent("lora-init"), to: adapter)
        let configURL = adapter.appendingPathComponent("adapter_config.json")
        try String(contentsOf: configURL, encoding: .utf8).replacingOccurrences(of: "\"r\": 4", with: "\"r\": 8")
            .write(to: configURL, atomically: true, encoding: .utf8)
        try assertFails(base + ["--init-adapter", adapter.path], mentioning: ["shape", "adapter_model.safetensors"])
        let malformed = try write("{\"input_ids\": [1, 2, 3]}\nnot json\n", "bad.jsonl")
        try assertFails(["train", "--model", Self.tinyLlama.path, "--data", malformed, "--out", scratch.appendingPathComponent("out-malformed").path], mentioning: ["bad.jsonl:2"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("out/metrics.jsonl").path))
    }

    func testEvalScoreMismatchedFiles() throws {
        let p = try write("a\nb\n", "p.txt"), r = try write("a\n", "r.txt")
        try assertFails(["eval", "score", "--predictions", p, "--references", r, "--metric", "accuracy"], mentioning: ["p.txt"])
        try assertFails(["eval", "score", "--predictions", p, "--references", r, "--metric", "nope"], mentioning: ["nope"])
    }

    func testKilledTrainingRunResumesExactly() throws {
        var rows = ""
        for i in 0..<24 { rows += "{\"input_ids\": [\((0..<(5 + i % 7)).map { String(($0 * 37 + i * 11) % 250 + 1) }.joined(separator: ", "))]}\n" }
        let data = try write(rows, "train.jsonl")
        let settings = ["--model", Self.tinyLlama.path, "--data", data, "--method", "lora", "--max-steps", "30",
                        "--batch-size", "2", "--learning-rate", "1e-3", "--lora-dropout", "0.1", "--save-steps", "1",
                        "--save-total-limit", "3", "--lr-scheduler-type", "cosine", "--warmup-steps", "3"]
        let straight = scratch.appendingPathComponent("straight"), killed = scratch.appendingPathComponent("killed")
        XCTAssertEqual(try tailor(["train"] + settings + ["--out", straight.path]).status, 0)

        let process = Process()
        process.executableURL = executable
        process.arguments = ["train"] + settings + ["--out", killed.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !FileManager.default.fileExists(atPath: killed.appendingPathComponent("checkpoint-7").path) {
            usleep(2_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let resumed = try tailor(["train"] + settings + ["--out", killed.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resumed at step"), resumed.output)
        func losses(_ dir: URL) throws -> [String] {
            try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return "\(object?["step"] ?? "?") \(object?["loss"] ?? "?") \(object?["grad_norm"] ?? "?")"
            }
        }
        XCTAssertEqual(try losses(killed), try losses(straight), "the resumed run must reproduce every step bit for bit")
        XCTAssertEqual(try Data(contentsOf: killed.appendingPathComponent("adapter_model.safetensors")),
                       try Data(contentsOf: straight.appendingPathComponent("adapter_model.safetensors")))
    }

    /// Preflight refuses data rendered with another model's chat template (needs the SmolLM2 GGUF for its tokenizer).
    func testTrainingRefusesDataPreparedWithAnotherChatTemplate() throws {
        guard let model = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            throw XCTSkip("set TAILOR_SMOLLM2_GGUF")
        }
        let data = try write(#"{"messages": [{"role": "user", "content": "What is 2 plus 3?"}, {"role": "assistant", "content": "5"}]}"#
                             + "\n" + #"{"messages": [{"role": "user", "content": "Capital of Peru?"}, {"role": "assistant", "content": "Lima"}]}"# + "\n",
                             "chat.jsonl")
        let prepared = scratch.appendingPathComponent("prepared")
        let prepare = try tailor(["prepare", "--model", model, "--data", data, "--out", prepared.path, "--template", "llama3",
                                  "--validation-split", "0"])
        XCTAssertEqual(prepare.status, 0, prepare.output)
        try assertFails(["train", "--model", model, "--data", prepared.appendingPathComponent("train.tdata").path,
                         "--out", scratch.appendingPathComponent("run").path, "--max-steps", "1"],
                        mentioning: ["chat-template", "--ignore-preflight"])
        // The raw chat file trains directly: prepared on the fly with the model's own template and masks.
        let raw = try tailor(["train", "--model", model, "--data", data, "--out", scratch.appendingPathComponent("raw").path,
                              "--max-steps", "1", "--batch-size", "2"])
        XCTAssertEqual(raw.status, 0, raw.output)
        XCTAssertTrue(raw.output.contains("on the fly: 2 of 2 rows kept"), raw.output)
    }

    /// The answer loss `tailor eval` reports on held-out chat rows is the validation loss `tailor train --eval-data`
    /// reported for the same rows and adapter: two code paths (the trainer's prepared masks and batches; eval's
    /// template-rendered prompt + reply), one number (needs the SmolLM2 GGUF).
    func testEvalAnswerLossIsTheTrainingValidationLoss() throws {
        guard let model = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            throw XCTSkip("set TAILOR_SMOLLM2_GGUF")
        }
        let rows = try String(contentsOf: Self.repository.appendingPathComponent("data/dates/eval.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        let train = try write(rows.prefix(8).joined(separator: "\n") + "\n", "train.jsonl")
        let held = try write(rows.suffix(4).joined(separator: "\n") + "\n", "held.jsonl")
        let run = scratch.appendingPathComponent("run"), report = scratch.appendingPathComponent("report")
        let trained = try tailor(["train", "--model", model, "--data", train, "--eval-data", held, "--out", run.path,
                                  "--method", "lora", "--max-steps", "2", "--batch-size", "4", "--learning-rate", "1e-3", "--eval-steps", "2",
                                  "--save-steps", "0", "--compute-dtype", "f32"])   // eval scores in f32 too
        XCTAssertEqual(trained.status, 0, trained.output)
        let lastStep = try XCTUnwrap(try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").last)
        let metrics = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lastStep.utf8)) as? [String: Any])
        let validationLoss = try XCTUnwrap(metrics["eval_loss"] as? Double, "\(metrics)")
        let evaluated = try tailor(["eval", "--model", model, "--adapter", run.path, "--data", held, "--task", "qa",
                                    "--max-new-tokens", "12", "--compare-base", "--out", report.path])
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        XCTAssertTrue(evaluated.output.contains("answer_loss"), evaluated.output)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: report.appendingPathComponent("report.json"))) as? [String: Any])
        let runs = try XCTUnwrap(json["runs"] as? [[String: Any]])
        func answerLoss(_ run: [String: Any]) throws -> Double {
            let scores = try XCTUnwrap(run["scores"] as? [[String: Any]])
            return try XCTUnwrap(scores.first { $0["name"] as? String == "answer_loss" }?["value"] as? Double)
        }
        XCTAssertEqual(runs.map { $0["label"] as? String }, ["tuned", "base"])
        // float32 forward passes over differently padded batches, summed in another order: 1e-3 nats.
        XCTAssertEqual(try answerLoss(runs[0]), validationLoss, accuracy: 1e-3)
        XCTAssertNotEqual(try answerLoss(runs[1]), try answerLoss(runs[0]), "the base must be scored without the adapter")
    }
}
