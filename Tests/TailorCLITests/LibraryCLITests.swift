// The library as a user of `import Tailor` meets it: `tailor --version` and the two programs in Examples/.
import Foundation
import XCTest

final class LibraryCLITests: TailorCLITestCase {
    func testVersion() throws {
        let run = try tailor(["--version"])
        XCTAssertEqual(run.status, 0)
        XCTAssertNotNil(run.output.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression), run.output)
    }

    /// Runs a sibling executable of `tailor` (the examples are built with the package).
    func example(_ name: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = executable.deletingLastPathComponent().appendingPathComponent(name)
        process.arguments = arguments
        return try run(process)
    }

    func testExamplesFineTuneThenGenerateWithTheAdapter() throws {
        guard let model = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2_GGUF"], FileManager.default.fileExists(atPath: model) else {
            throw XCTSkip("set TAILOR_SMOLLM2_GGUF to run the examples on SmolLM2")
        }
        let usage = try example("GenerateExample", [])
        XCTAssertEqual(usage.status, 64, usage.output)
        let base = try example("GenerateExample", [model, "What is the capital of France?"])
        XCTAssertEqual(base.status, 0, base.output)
        XCTAssertTrue(base.output.contains("Paris"), base.output)

        // Eight chat rows of the sample task, one optimizer step of four rows, then the adapter answers.
        let rows = try String(contentsOf: CLITests.repository.appendingPathComponent("data/dates/train.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(8).joined(separator: "\n")
        let data = try write(rows + "\n", "dates.jsonl")
        let out = scratch.appendingPathComponent("lora").path
        let trained = try example("FineTuneExample", [model, data, out, "1"])
        XCTAssertEqual(trained.status, 0, trained.output)
        XCTAssertTrue(trained.output.contains("8 rows"), trained.output)
        XCTAssertTrue(trained.output.contains("step 1/1  loss "), trained.output)
        for file in ["adapter_config.json", "adapter_model.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        let adapted = try example("GenerateExample", [model, "What is the capital of France?", out])
        XCTAssertEqual(adapted.status, 0, adapted.output)
        XCTAssertFalse(adapted.output.isEmpty)
    }
}
