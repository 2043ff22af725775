// Starting a server in the test process on an ephemeral loopback port, and a small HTTP client for it.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TailorServe
import XCTest

/// A server running in a task; `stop()` cancels it.
final class RunningServer: @unchecked Sendable {
    let port: Int
    let task: Task<Void, Error>

    init(port: Int, task: Task<Void, Error>) {
        self.port = port
        self.task = task
    }

    /// Starts a server on 127.0.0.1 with a free port and waits (at most 60 s) until its model is loaded.
    static func start(_ configure: (inout ServeConfiguration) -> Void = { _ in }, folder: URL,
                      adapters: [(name: String, path: String)] = []) async throws -> RunningServer {
        var configuration = ServeConfiguration()
        configuration.port = 0
        configure(&configuration)
        let source = ServedModelSource(name: "tiny", adapters: adapters) { try ServeFixtures.served(folder) }
        let (events, continuation) = AsyncStream.makeStream(of: Int.self)
        let server = Server(configuration: configuration, source: source)
        let task = Task {
            defer { continuation.finish() }
            try await server.run(onListening: { _, port in continuation.yield(port) }, onReady: { continuation.yield(-1) })
        }
        let waiter = Task {
            var port: Int?, ready = false
            for await event in events {
                if event >= 0 { port = event } else { ready = true }
                if ready, port != nil { return port }
            }
            return nil as Int?
        }
        let timeout = Task { try await Task.sleep(for: .seconds(60)); waiter.cancel() }
        defer { timeout.cancel() }
        guard let port = await waiter.value, port > 0 else {
            task.cancel()
            if case .failure(let error) = await task.result { throw error }
            throw XCTSkip("the server did not start within 60 s")
        }
        return RunningServer(port: port, task: task)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    struct Reply {
        var status: Int
        var body: String
        var headers: [String: String]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// One request; `json` is sent as the body.
    func send(_ method: String, _ path: String, json: [String: Any]? = nil, raw: String? = nil,
              headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)\(path)")))
        request.httpMethod = method
        request.timeoutInterval = 60
        if let json { request.httpBody = try JSONSerialization.data(withJSONObject: json) }
        if let raw { request.httpBody = Data(raw.utf8) }
        if request.httpBody != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
        return Reply(status: http.statusCode, body: String(decoding: data, as: UTF8.self), headers: fields)
    }
}

/// The `data:` payloads of a server-sent event stream, in order.
func sseEvents(_ body: String) -> [String] {
    body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
        event.hasPrefix("data: ") ? String(event.dropFirst(6)) : "<not an SSE data line: \(event)>"
    }
}

/// Parses one JSON object.
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// A raw TCP connection to 127.0.0.1: a client that can go away mid-request.
final class OpenConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("no socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw XCTSkip("cannot connect to the server")
        }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw XCTSkip("could not send the request") }
    }

    /// Reads until `marker` arrived (at most `limit` bytes / 30 s).
    func read(until marker: String, limit: Int = 1 << 20) -> String {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < limit {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
            if String(decoding: received, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() { Glibc.close(fd) }
}

/// Connects to 127.0.0.1:`port`, sends `request`, reads until `marker` arrived, then closes the socket: a client that
/// goes away mid-reply.
func sendAndHangUp(port: Int, request: String, marker: String) throws -> String {
    let connection = try OpenConnection(port: port)
    defer { connection.close() }
    try connection.send(request)
    return connection.read(until: marker)
}
