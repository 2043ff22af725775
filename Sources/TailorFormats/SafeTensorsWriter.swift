// safetensors writer producing the same bytes as the Python/Rust writer (spec §3.2), written atomically.
import Foundation
import TailorTensor
import TailorText
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes safetensors files byte-identical to `safetensors.torch.save_file` for the same tensors.
public enum SafeTensorsWriter {
    /// Header bytes (8-byte length + padded JSON) and the tensors in write order with their data offsets.
    static func layout(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]?) throws -> (header: [UInt8], order: [Tensor]) {
        var seen = Set<String>()
        for entry in tensors where !seen.insert(entry.name).inserted {
            throw FormatError.invalidArgument(reason: "tensor name '\(entry.name)' occurs twice")
        }
        if seen.contains("__metadata__") { throw FormatError.invalidArgument(reason: "'__metadata__' is not a valid tensor name") }
        // dtype descending (spec §3.2 enum order), then name ascending byte-wise.
        let sorted = tensors.sorted { a, b in
            let da = SafeTensorsDType(a.tensor.dtype), db = SafeTensorsDType(b.tensor.dtype)
            if da != db { return da > db }
            return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
        }
        var members: [JSONMember] = []
        if let metadata {
            // Rust writes a HashMap in an unspecified order; sorting at least makes our output reproducible.
            let entries = metadata.keys.sorted().map { JSONMember(key: $0, value: .string(metadata[$0] ?? "")) }
            members.append(JSONMember(key: "__metadata__", value: .object(entries)))
        }
        var offset = 0
        for entry in sorted {
            let size = entry.tensor.byteCount
            members.append(JSONMember(key: entry.name, value: .object([
                JSONMember(key: "dtype", value: .string(SafeTensorsDType(entry.tensor.dtype).rawValue)),
                JSONMember(key: "shape", value: .array(entry.tensor.shape.map { .int($0) })),
                JSONMember(key: "data_offsets", value: .array([.int(offset), .int(offset + size)])),
            ])))
            offset += size
        }
        var json = JSONValue.object(members).serialized(.serdeCompact)
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        var header = [UInt8]()
        header.reserveCapacity(8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { header += $0 }
        header += json
        return (header, sorted.map(\.tensor))
    }

    /// The complete file as bytes (for small files and tests).
    public static func data(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil) throws -> Data {
        let (header, order) = try layout(tensors, metadata: metadata)
        var data = Data(header)
        for tensor in order { tensor.withUnsafeRawBytes { data.append(contentsOf: $0) } }
        return data
    }

    /// Writes `tensors` to `url` through a temporary file in the same folder renamed into place, so readers never
    /// see a half-written file.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil, to url: URL) throws {
        let (header, order) = try layout(tensors, metadata: metadata)
        try AtomicFile.write(to: url) { sink in
            try header.withUnsafeBytes { try sink($0) }
            for tensor in order { try tensor.withUnsafeRawBytes { try sink($0) } }
        }
    }
}

/// Writes a file through `<name>.tmp-<pid>` + fsync + rename.
enum AtomicFile {
    static func write(to url: URL, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let path = url.path
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FormatError.io(path: temp, operation: "create", errno: errno) }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try body { bytes in
                var done = 0
                while done < bytes.count {
                    guard let base = bytes.baseAddress else { return }
                    let n = Glibc_write(fd, base + done, bytes.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw FormatError.io(path: temp, operation: "write", errno: errno)
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw FormatError.io(path: temp, operation: "fsync", errno: errno) }
            closed = true
            guard close(fd) == 0 else { throw FormatError.io(path: temp, operation: "close", errno: errno) }
            guard rename(temp, path) == 0 else { throw FormatError.io(path: path, operation: "rename", errno: errno) }
        } catch {
            unlink(temp)
            throw error
        }
    }

    static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { sink in try data.withUnsafeBytes { try sink($0) } }
    }
}

/// `write(2)` under a name that does not clash with the `write` methods above.
@inline(__always) private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
