// `tailor serve` as a user runs it: SIGTERM drains running requests within the grace period and exits 0.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import XCTest

final class ServeCommandTests: XCTestCase {
    /// A `tailor serve` process and what it printed.
    final class ServeProcess: Sendable {
        let process: Process
        private let output = Printed()

        final class Printed: Sendable {
            let text = Mutex("")
        }

        init(arguments: [String]) throws {
            let executable = Bundle.main.bundleURL.appendingPathComponent("tailor")
            guard FileManager.default.isExecutableFile(atPath: executable.path) else {
                throw XCTSkip("build the tailor executable first (swift build --build-tests)")
            }
            process = Process()
            process.executableURL = executable
            process.arguments = ["serve"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            let output = output
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                output.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
            try process.run()
        }

        var printed: String { output.text.withLock { $0 } }

        /// The port from "listening on http://127.0.0.1:PORT/v1", once "ready" was printed (at most 60 s).
        func waitUntilReady() async throws -> Int {
            for _ in 0..<1200 {
                let text = printed
                if text.contains("tailor serve: ready"), let range = text.range(of: #"127\.0\.0\.1:(\d+)/v1"#, options: .regularExpression) {
                    let match = text[range].dropFirst("127.0.0.1:".count).dropLast(3)
                    return try XCTUnwrap(Int(match))
                }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            process.terminate()
            throw XCTSkip("tailor serve did not become ready: \(printed)")
        }

        /// Waits at most `seconds` for the process to exit; kills it after that.
        func waitForExit(seconds: Double) async throws -> Bool {
            for _ in 0..<Int(seconds * 20) where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            guard !process.isRunning else { process.interrupt(); kill(process.processIdentifier, SIGKILL); return false }
            return true
        }
    }

    func chatRequest(port: Int, maxTokens: Int) -> URLRequest {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/chat/completions")!)
        request.httpMethod = "POST"
        request.timeoutInterval = 120
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"model":"m","messages":[{"role":"user","content":"go"}],"max_tokens":\#(maxTokens),"temperature":0}"#.utf8)
        return request
    }

    /// Waits (at most 12 s) until /metrics shows a request in the batch.
    func waitUntilRunning(port: Int) async throws {
        for _ in 0..<600 {
            let (metrics, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
            if String(decoding: metrics, as: UTF8.self).contains("tailor_batch_occupancy 1") { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("the request never ran")
    }

    func testSIGTERMFinishesRunningRequestsAndExitsZero() async throws {
        let folder = try ServeFixtures.slowChatFolder()
        let server = try ServeProcess(arguments: ["--model", folder.path, "--template", "chatml", "--port", "0",
                                                  "--served-model-name", "m", "--max-tokens", "4000", "--shutdown-grace", "60"])
        let port = try await server.waitUntilReady()
        XCTAssertFalse(server.printed.contains("0.0.0.0"))
        let request = chatRequest(port: port, maxTokens: 400)
        let reply = Task { try await URLSession.shared.data(for: request) }
        try await waitUntilRunning(port: port)
        kill(server.process.processIdentifier, SIGTERM)
        let (data, response) = try await reply.value
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual((json["usage"] as? [String: Int])?["completion_tokens"], 400, "the running request finished in full")
        let exited = try await server.waitForExit(seconds: 60)
        XCTAssertTrue(exited, "still running after SIGTERM: \(server.printed)")
        XCTAssertEqual(server.process.terminationReason, .exit)
        XCTAssertEqual(server.process.terminationStatus, 0, server.printed)
        XCTAssertTrue(server.printed.contains("tailor serve: stopped"), server.printed)
    }

    func testGracePeriodCancelsWhatIsStillRunning() async throws {
        let folder = try ServeFixtures.slowChatFolder()
        let server = try ServeProcess(arguments: ["--model", folder.path, "--template", "chatml", "--port", "0",
                                                  "--served-model-name", "m", "--max-tokens", "4000", "--shutdown-grace", "0.3"])
        let port = try await server.waitUntilReady()
        let request = chatRequest(port: port, maxTokens: 3900)
        let reply = Task { try await URLSession.shared.data(for: request) }
        try await waitUntilRunning(port: port)
        kill(server.process.processIdentifier, SIGTERM)
        let (data, _) = try await reply.value
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
        let tokens = (json["usage"] as? [String: Int])?["completion_tokens"] ?? 0
        XCTAssertLessThan(tokens, 3900, "the reply was cut at the end of the grace period")
        XCTAssertEqual((json["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String, "cancelled", String(decoding: data, as: UTF8.self))
        let exited = try await server.waitForExit(seconds: 30)
        XCTAssertTrue(exited)
        XCTAssertEqual(server.process.terminationStatus, 0, server.printed)
    }
}
