// What every CLI test needs: the built `tailor` executable, a scratch folder, and running it as a user does.
import Foundation
import XCTest

/// Base class of the CLI test cases (it has no tests of its own).
class TailorCLITestCase: XCTestCase {
    var executable: URL { Bundle.main.bundleURL.appendingPathComponent("tailor") }
    var scratch: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw XCTSkip("build the tailor executable first (swift build --build-tests)")
        }
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    struct Result { var status: Int32; var output: String }

    /// Runs `tailor arguments…`, standard output and error together.
    @discardableResult
    func tailor(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        return try run(process)
    }

    /// Runs `process`, standard output and error together; a death by signal reads as status 128 + signal.
    func run(_ process: Process) throws -> Result {
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Result(status: status, output: String(decoding: data, as: UTF8.self))
    }

    /// A non-zero exit (not a signal) whose output names every needle.
    func assertFails(_ arguments: [String], mentioning needles: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try tailor(arguments)
        XCTAssertNotEqual(result.status, 0, "expected a failure: \(arguments)", file: file, line: line)
        XCTAssertLessThan(result.status, 128, "crashed (signal) instead of an error: \(result.output)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(result.output.contains(needle), "'\(needle)' missing from: \(result.output)", file: file, line: line)
        }
    }

    /// Writes `text` into the scratch folder; returns its path.
    func write(_ text: String, _ name: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}
