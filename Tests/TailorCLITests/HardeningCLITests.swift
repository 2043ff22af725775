// Issue 15 as a user meets it: hostile recipes, data, flags and templates end in a named error under an
// address-space limit; an interrupted run resumes bit for bit; a finished run is never overwritten or mixed up.
import Foundation
import XCTest

final class HardeningCLITests: TailorCLITestCase {
    static let corpus = CLITests.repository.appendingPathComponent("Tests/TailorCLITests/Corpus")
    /// Virtual memory allowed to each hostile invocation (the runtime and BLAS threads reserve a few hundred MB).
    static let addressSpaceKB = 4_000_000

    /// Runs `tailor arguments…` under `ulimit -v`, through /bin/sh so the limit applies to the child only.
    func limitedTailor(_ arguments: [String]) throws -> Result {
        let quoted = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v \(Self.addressSpaceKB) && exec " + quoted.joined(separator: " ")]
        return try run(process)
    }

    func testRegressionCorpusEndsInNamedErrors() throws {
        let manifest = try String(contentsOf: Self.corpus.appendingPathComponent("manifest.tsv"), encoding: .utf8)
        let smolLM2 = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"]
        var ran = 0
        for line in manifest.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count == 3 else { XCTFail("bad manifest line: \(line)"); continue }
            let (kind, input, expected) = (fields[0], fields[1], fields[2])
            let path = Self.corpus.appendingPathComponent(input).path
            let out = scratch.appendingPathComponent("out-\(ran)").path
            let train = ["train", "--model", CLITests.tinyLlama.path, "--out", out, "--max-steps", "1"]
            let defaultData = Self.corpus.appendingPathComponent("data-bom.jsonl").path
            let arguments: [String]
            switch kind {
            case "config": arguments = train + ["--data", defaultData, "--config", path]
            case "data": arguments = train + ["--data", path]
            case "flags": arguments = train + ["--data", defaultData] + input.split(separator: " ").map(String.init)
            case "template":
                guard let smolLM2 else { continue }
                arguments = ["template", "--model", smolLM2, "--messages", Self.corpus.appendingPathComponent("messages.json").path,
                             "--template", path]
            default: XCTFail("unknown kind \(kind)"); continue
            }
            let result = try limitedTailor(arguments)
            ran += 1
            XCTAssertLessThan(result.status, 128, "\(input): died by a signal: \(result.output.suffix(500))")
            if expected == "OK" {
                XCTAssertEqual(result.status, 0, "\(input): \(result.output.suffix(500))")
            } else {
                XCTAssertEqual(result.status, 1, "\(input): expected an error: \(result.output.suffix(500))")
                XCTAssertTrue(result.output.contains(expected), "\(input): '\(expected)' missing from: \(result.output.suffix(500))")
            }
        }
        XCTAssertGreaterThanOrEqual(ran, 18)
    }

    /// A sequence longer than the context is scored in windows of the context length: the same mean NLL as
    /// scoring the windows one by one (the tiny Llama's context is 128 tokens; windows overlap by one token so every
    /// token after the first is predicted once).
    func testScoreBeyondTheContextUsesWindows() throws {
        let ids = (0..<255).map { ($0 * 37) % 250 + 1 }
        func score(_ ids: ArraySlice<Int>) throws -> (nll: Double, predicted: Int) {
            let result = try limitedTailor(["score", "--model", CLITests.tinyLlama.path, "--json",
                                            "--ids", ids.map(String.init).joined(separator: ",")])
            XCTAssertEqual(result.status, 0, result.output)
            let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            return (object?["meanNLL"] as? Double ?? .nan, object?["predictedTokens"] as? Int ?? -1)
        }
        let whole = try score(ids[...]), first = try score(ids[0..<128]), second = try score(ids[127..<255])
        XCTAssertEqual(whole.predicted, 254)
        XCTAssertEqual(first.predicted + second.predicted, 254)
        // f64 sums of the same per-token losses in another grouping: equal to 1e-9 relative.
        XCTAssertEqual(whole.nll, (first.nll * 127 + second.nll * 127) / 254, accuracy: 1e-9 * whole.nll)
    }

    func testGenerationBeyondTheContextIsANamedError() throws {
        guard let smolLM2 = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"] else { throw XCTSkip("needs TAILOR_SMOLLM2_GGUF") }
        for extra in [["--max-new-tokens", "1000000000000"], ["--system", String(repeating: "word ", count: 20_000)]] {
            let result = try limitedTailor(["generate", "--model", smolLM2, "--prompt", "hi"] + extra)
            XCTAssertEqual(result.status, 1, result.output)
            XCTAssertTrue(result.output.contains("more than the model's context of 8192 tokens"), result.output)
        }
    }

    /// `bench train` allocates its random rows first: a sequence, batch or step count past its bounds is refused
    /// with their names before any allocation, under the address-space limit.
    func testBenchTrainRefusesSizesPastItsBounds() throws {
        let model = CLITests.tinyLlama.path
        for flags in [["--sequence-length", "100000000000"], ["--batch-size", "100000000"], ["--steps", "99999999999999"]] {
            let result = try limitedTailor(["bench", "train", "--model", model] + flags)
            XCTAssertEqual(result.status, 64, "\(flags): \(result.output)")
            XCTAssertTrue(result.output.contains("--sequence-length ≤") && result.output.contains("--steps ≤ 10000"), result.output)
        }
    }

    func testQuantizeNeedsForceToReplaceItsOutput() throws {
        let out = scratch.appendingPathComponent("q")
        let model = CLITests.repository.appendingPathComponent("Tests/TailorModelsTests/Fixtures/tiny-qwen2").path
        XCTAssertEqual(try tailor(["quantize", "--model", model, "--out", out.path]).status, 0)
        let before = try TrainingFolder.snapshot(out)
        try assertFails(["quantize", "--model", model, "--out", out.path, "--type", "fp4"], mentioning: ["--force", out.path])
        XCTAssertEqual(try TrainingFolder.snapshot(out), before)
        XCTAssertEqual(try tailor(["quantize", "--model", model, "--out", out.path, "--type", "fp4", "--force"]).status, 0)
        XCTAssertNotEqual(try TrainingFolder.snapshot(out), before)
    }

    /// A tokenizer.json whose added token lies past the model's vocab_size is refused when the tokenizer is loaded,
    /// before any id reaches the embedding.
    func testAddedTokenOutsideTheVocabularyIsRefusedAtLoad() throws {
        let model = scratch.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: CLITests.tinyLlama.appendingPathComponent(name), to: model.appendingPathComponent(name))
        }
        let fixture = CLITests.repository.appendingPathComponent("Tests/TailorTokenizersTests/Fixtures/gpt2")
        var tokenizer = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("tokenizer.json"))) as? [String: Any] ?? [:]
        var vocab = [String: Int]()
        for (i, piece) in ["h", "i", "hi", "Ġ"].enumerated() { vocab[piece] = i }
        var bpe = tokenizer["model"] as? [String: Any] ?? [:]
        bpe["vocab"] = vocab
        bpe["merges"] = ["h i"]
        tokenizer["model"] = bpe
        tokenizer["added_tokens"] = [["id": 100_000, "content": "<evil>", "single_word": false, "lstrip": false, "rstrip": false,
                                      "normalized": false, "special": true]]
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: model.appendingPathComponent("tokenizer.json"))
        try FileManager.default.copyItem(at: fixture.appendingPathComponent("tokenizer_config.json"),
                                         to: model.appendingPathComponent("tokenizer_config.json"))
        try assertFails(["tokenize", "--model", model.path, "--text", "hi <evil>"],
                        mentioning: ["\"<evil>\" has id 100000", "outside the model's vocabulary of 256 ids"])
    }

    func testNaNWeightsAreNamedAtLoad() throws {
        let model = scratch.appendingPathComponent("nan-model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CLITests.tinyLlama.appendingPathComponent("config.json"), to: model.appendingPathComponent("config.json"))
        var bytes = [UInt8](try Data(contentsOf: CLITests.tinyLlama.appendingPathComponent("model.safetensors")))
        // Overwrite element 5 of one f32 tensor with a NaN, at the offset the safetensors header gives.
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any] ?? [:]
        let name = "model.layers.0.mlp.down_proj.weight"
        let offsets = (header[name] as? [String: Any])?["data_offsets"] as? [Int] ?? [0]
        let at = 8 + headerLength + offsets[0] + 5 * 4
        bytes.replaceSubrange(at..<(at + 4), with: [0x00, 0x00, 0xC0, 0x7F])
        try Data(bytes).write(to: model.appendingPathComponent("model.safetensors"))
        try assertFails(["score", "--model", model.path, "--ids", "1,2,3"],
                        mentioning: ["tensor \"\(name)\" holds NaN or infinite values (first at element 5)"])
    }

    func testPrepareRefusesADatasetWithNoRowsAndAcceptsABOM() throws {
        guard let smolLM2 = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"] else { throw XCTSkip("needs TAILOR_SMOLLM2_GGUF") }
        let row = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"x\"}]}\n"
        let data = try write("\u{FEFF}" + row, "bom.jsonl")
        let out = scratch.appendingPathComponent("prepared")
        try assertFails(["prepare", "--model", smolLM2, "--data", data, "--out", out.path, "--min-response-chars", "50"],
                        mentioning: ["bom.jsonl: none of the 1 rows was kept for training"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        let kept = try tailor(["prepare", "--model", smolLM2, "--data", data, "--out", out.path])
        XCTAssertEqual(kept.status, 0, kept.output)

        // Bytes that are not UTF-8: counted in the report by default, refused with --strict.
        var bytes = Data(row.utf8)
        bytes.insert(0xFF, at: bytes.firstRange(of: Data("hi".utf8))?.upperBound ?? 0)
        let latin1 = scratch.appendingPathComponent("latin1.jsonl")
        try (bytes + Data(row.utf8)).write(to: latin1)
        let counted = try tailor(["prepare", "--model", smolLM2, "--data", latin1.path, "--out", scratch.appendingPathComponent("u").path, "--json"])
        XCTAssertEqual(counted.status, 0, counted.output)
        let report = try JSONSerialization.jsonObject(with: Data(counted.output.utf8)) as? [String: Any]
        let rules = report?["rules"] as? [[String: Any]] ?? []
        XCTAssertEqual(rules.first { $0["rule"] as? String == "invalid-utf8" }?["count"] as? Int, 1, counted.output)
        try assertFails(["prepare", "--model", smolLM2, "--data", latin1.path, "--out", scratch.appendingPathComponent("s").path, "--strict"],
                        mentioning: ["latin1.jsonl:1: bytes that are not UTF-8"])
    }

    /// Control characters from files reach the terminal escaped: an ANSI sequence in a recipe key stays inert.
    func testControlCharactersInMessagesAreEscaped() throws {
        let recipe = try write("\"evil\\e[2J\\e[31m\": 1\n", "evil.yaml")
        let result = try tailor(["train", "--model", CLITests.tinyLlama.path, "--data", recipe, "--out",
                                 scratch.appendingPathComponent("o").path, "--config", recipe])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("unknown hyperparameter 'evil\\u{1B}[2J\\u{1B}[31m'"), result.output)
        XCTAssertFalse(result.output.unicodeScalars.contains("\u{1B}"), result.output)
    }

    /// Unwritable outputs give one line naming the path and the system's reason, not a Foundation error dump.
    func testUnwritableOutputsAreOneLineNamingThePath() throws {
        guard FileManager.default.fileExists(atPath: "/proc/self") else { throw XCTSkip("needs /proc (Linux)") }
        let settings = try trainingSettings().map { $0 == "150" ? "2" : $0 }
        for arguments in [["train"] + settings + ["--out", "/proc/tailor-out"],
                          ["quantize", "--model", CLITests.tinyQwen.path, "--out", "/proc/tailor-q"]] {
            let result = try tailor(arguments)
            XCTAssertEqual(result.status, 1, result.output)
            let error = result.output.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
            XCTAssertEqual(error.count, 1, result.output)
            XCTAssertTrue(error.first?.contains("no such file or directory") == true, result.output)
            XCTAssertTrue(error.first?.contains("/proc/") == true, result.output)
            XCTAssertFalse(result.output.contains("NSCocoaErrorDomain"), result.output)
        }
    }

    private func trainingSettings() throws -> [String] {
        var rows = ""
        for i in 0..<24 { rows += "{\"input_ids\": [\((0..<(5 + i % 7)).map { String(($0 * 37 + i * 11) % 250 + 1) }.joined(separator: ", "))]}\n" }
        return ["--model", CLITests.tinyLlama.path, "--data", try write(rows, "train.jsonl"), "--method", "lora",
                "--max-steps", "150", "--batch-size", "2", "--learning-rate", "1e-3", "--lr-scheduler-type", "cosine",
                "--warmup-steps", "3", "--lora-dropout", "0.1"]
    }

    func testInterruptedRunWritesACheckpointAndResumesBitForBit() throws {
        let settings = try trainingSettings()
        let straight = scratch.appendingPathComponent("straight"), interrupted = scratch.appendingPathComponent("interrupted")
        XCTAssertEqual(try tailor(["train"] + settings + ["--out", straight.path]).status, 0)

        let (status, output) = try trainInterrupted(settings, out: interrupted, by: SIGINT)
        XCTAssertEqual(status, 130, output)
        XCTAssertTrue(output.contains("resume with: "), output)
        XCTAssertTrue(output.contains("--resume"), output)
        XCTAssertFalse(TrainingFolder.checkpoints(interrupted).isEmpty, "Ctrl-C must leave a checkpoint: \(output)")

        let resumed = try tailor(["train"] + settings + ["--out", interrupted.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(try Data(contentsOf: interrupted.appendingPathComponent("adapter_model.safetensors")),
                       try Data(contentsOf: straight.appendingPathComponent("adapter_model.safetensors")),
                       "the resumed run must end with the uninterrupted run's adapter, bit for bit")
        XCTAssertEqual(try Data(contentsOf: interrupted.appendingPathComponent("metrics.jsonl")).count > 0, true)
    }

    /// Starts `tailor train … --out out`, sends `signal` once metrics.jsonl has its first line (the run is under way),
    /// and returns the exit status and the output.
    func trainInterrupted(_ settings: [String], out: URL, by signal: Int32) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["train"] + settings + ["--out", out.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let metrics = out.appendingPathComponent("metrics.jsonl")
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, (FileManager.default.contents(atPath: metrics.path)?.count ?? 0) == 0 { usleep(2_000) }
        kill(process.processIdentifier, signal)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func testTerminationSignalCheckpointsAndExits143() throws {
        let out = scratch.appendingPathComponent("terminated")
        let (status, output) = try trainInterrupted(try trainingSettings(), out: out, by: SIGTERM)
        XCTAssertEqual(status, 143, output)
        XCTAssertTrue(output.contains("resume with: "), output)
        XCTAssertFalse(TrainingFolder.checkpoints(out).isEmpty, "SIGTERM must leave a checkpoint: \(output)")
    }

    func testRerunIntoAFinishedRunLeavesItUntouched() throws {
        let settings = try trainingSettings().map { $0 == "150" ? "6" : $0 }
        let run = scratch.appendingPathComponent("run")
        XCTAssertEqual(try tailor(["train"] + settings + ["--out", run.path, "--save-steps", "2"]).status, 0)
        let before = try TrainingFolder.snapshot(run)
        try assertFails(["train"] + settings + ["--out", run.path, "--lora-r", "2"], mentioning: ["already holds a run", "--force"])
        XCTAssertEqual(try TrainingFolder.snapshot(run), before, "a refused run must not touch the folder")
        // --resume with another schedule lists what changed and leaves the folder as it was.
        try assertFails(["train"] + settings + ["--out", run.path, "--resume", "--learning-rate", "5e-4"],
                        mentioning: ["learning_rate: 0.001 → 0.0005", "--force"])
        XCTAssertEqual(try TrainingFolder.snapshot(run), before)
        // --resume with other data is refused too; a fresh folder cannot be resumed.
        let other = settings.map { $0.hasSuffix("train.jsonl") ? (try? write("{\"input_ids\": [1, 2, 3]}\n", "other.jsonl")) ?? $0 : $0 }
        try assertFails(["train"] + other + ["--out", run.path, "--resume"], mentioning: ["training data: fingerprint"])
        try assertFails(["train"] + settings + ["--out", scratch.appendingPathComponent("empty").path, "--resume"],
                        mentioning: ["no checkpoint"])
        // --force replaces the run, and its checkpoints are the new run's only.
        let forced = try tailor(["train"] + settings + ["--out", run.path, "--force", "--max-steps", "3", "--save-steps", "1"])
        XCTAssertEqual(forced.status, 0, forced.output)
        XCTAssertEqual(TrainingFolder.checkpoints(run), ["checkpoint-1", "checkpoint-2"])
    }
}

/// Reading a run folder back in tests.
enum TrainingFolder {
    static func checkpoints(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("checkpoint-") }.sorted()
    }

    /// Every file under `folder` with its bytes.
    static func snapshot(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if let data = FileManager.default.contents(atPath: url.path), !url.hasDirectoryPath {
                files[url.path.replacingOccurrences(of: folder.path, with: "")] = data
            }
        }
        return files
    }
}
