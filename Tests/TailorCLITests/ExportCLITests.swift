// `tailor merge` and `tailor export gguf` as a user runs them: an existing output needs --force, DoRA adapters merge
// and score.
import Foundation
import XCTest

final class ExportCLITests: XCTestCase {
    static let fixtures = CLITests.repository.appendingPathComponent("Tests/TailorExportTests/Fixtures")
    static let base = fixtures.appendingPathComponent("tiny-llama/base").path
    static let adapter = fixtures.appendingPathComponent("tiny-llama/adapter").path
    static let dora = fixtures.appendingPathComponent("tiny-llama-dora/adapter").path

    var executable: URL { Bundle.main.bundleURL.appendingPathComponent("tailor") }
    var scratch: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw XCTSkip("build the tailor executable first (swift build --build-tests)")
        }
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-export-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    func tailor(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func assertFails(_ arguments: [String], mentioning needles: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try tailor(arguments)
        XCTAssertNotEqual(result.status, 0, "expected a failure: \(arguments)", file: file, line: line)
        XCTAssertLessThan(result.status, 128, "crashed (signal) instead of an error: \(result.output)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(result.output.contains(needle), "'\(needle)' missing from: \(result.output)", file: file, line: line)
        }
    }

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
