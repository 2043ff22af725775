// `tailor merge` and `tailor export gguf` as a user runs them: an existing output needs --force, DoRA adapters merge
// and score.
import Foundation
import XCTest

final class ExportCLITests: TailorCLITestCase {
    static let fixtures = CLITests.repository.appendingPathComponent("Tests/TailorExportTests/Fixtures")
    static let base = fixtures.appendingPathComponent("tiny-llama/base").path
    static let adapter = fixtures.appendingPathComponent("tiny-llama/adapter").path
    static let dora = fixtures.appendingPathComponent("tiny-llama-dora/adapter").path

    func testExportGGUFNeedsForceToReplaceAFile() throws {
        let out = scratch.appendingPathComponent("m.gguf")
        try Data("keep".utf8).write(to: out)
        try assertFails(["export", "gguf", "--model", Self.base, "--adapter", Self.adapter, "--out", out.path, "--type", "f32"],
                            mentioning: ["m.gguf", "--force"])
        XCTAssertEqual(try Data(contentsOf: out), Data("keep".utf8))
        let forced = try tailor(["export", "gguf", "--model", Self.base, "--adapter", Self.adapter, "--out", out.path, "--type", "f32", "--force"])
        XCTAssertEqual(forced.status, 0, forced.output)
        XCTAssertTrue(forced.output.contains("check:"), forced.output)
        XCTAssertEqual(try Data(contentsOf: out).prefix(4), Data("GGUF".utf8))
    }

    /// DoRA adapters are applied and merged, not trained: a named error, before any step.
    func testTrainingADoRAAdapterIsRefused() throws {
        let data = scratch.appendingPathComponent("train.jsonl")
        try Data("{\"input_ids\": [1, 2, 3, 4]}\n{\"input_ids\": [5, 6, 7]}\n".utf8).write(to: data)
        let out = scratch.appendingPathComponent("run")
        try assertFails(["train", "--model", Self.base, "--data", data.path, "--out", out.path, "--method", "lora",
                         "--init-adapter", Self.dora], mentioning: ["use_dora", "lora_magnitude_vector"])
        try assertFails(["train", "--model", Self.base, "--data", data.path, "--out", out.path, "--use-dora"], mentioning: ["--use-dora"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("metrics.jsonl").path))
    }

    func testMergeNeedsForceToReplaceAFolderAndMergesDoRA() throws {
        let out = scratch.appendingPathComponent("merged")
        let first = try tailor(["merge", "--model", Self.base, "--adapter", Self.dora, "--out", out.path, "--dtype", "f32"])
        XCTAssertEqual(first.status, 0, first.output)
        try assertFails(["merge", "--model", Self.base, "--adapter", Self.adapter, "--out", out.path, "--dtype", "f32"],
                            mentioning: ["merged", "--force"])
        let forced = try tailor(["merge", "--model", Self.base, "--adapter", Self.adapter, "--out", out.path, "--dtype", "f32", "--force"])
        XCTAssertEqual(forced.status, 0, forced.output)
        let score = try tailor(["score", "--model", Self.base, "--adapter", Self.dora, "--ids", "1,17,42,99", "--json"])
        XCTAssertEqual(score.status, 0, score.output)
        XCTAssertTrue(score.output.contains("\"perplexity\""), score.output)
        try assertFails(["merge", "--model", Self.base, "--adapter", Self.dora, "--adapter", Self.adapter,
                             "--out", scratch.appendingPathComponent("soup").path], mentioning: ["DoRA", "soup"])
    }
}
