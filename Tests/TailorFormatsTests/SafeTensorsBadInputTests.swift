// safetensors bad input: each malformed file throws a FormatError naming the file and the tensor or offset.
import Foundation
import TailorFormats
import TailorTensor
import XCTest

final class SafeTensorsBadInputTests: XCTestCase {
    private var folder: TemporaryFolder!
    override func setUpWithError() throws { folder = try TemporaryFolder() }
    override func tearDown() { folder = nil }

    /// Writes `bytes` to a temporary file and asserts that opening it throws mentioning the file and `fragments`.
    private func assertRejects(_ bytes: Data, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try folder.file("bad-\(UUID().uuidString).safetensors", bytes)
        assertFormatError(try SafeTensorsFile(url: url), contains: [url.lastPathComponent] + fragments, file: file, line: line)
    }

    private let eightBytes = Data(repeating: 1, count: 8)

    func testTruncatedFile() throws {
        try assertRejects(Data([1, 2, 3]), ["truncated", "offset 0"])
        let valid = try Fixtures.data("safetensors/mixed.safetensors")
        try assertRejects(valid.prefix(valid.count - 1), ["beyond the data buffer"])
    }

    func testHeaderLengthTooSmallTooLargeOrBeyondFile() throws {
        try assertRejects(safetensorsBytes(header: "{", data: Data(), declaredLength: 1), ["header length 1"])
        try assertRejects(safetensorsBytes(header: "{}", data: Data(), declaredLength: 100_000_001), ["header length 100000001"])
        try assertRejects(safetensorsBytes(header: "{}", data: Data(), declaredLength: 50), ["header length 50 exceeds"])
    }

    func testHeaderNotJSON() throws {
        try assertRejects(safetensorsBytes(header: "{\"a\": [1,}", data: Data()), ["not valid JSON", "offset"])
        try assertRejects(safetensorsBytes(header: "[1, 2]  ", data: Data()), ["does not start with '{'"])
    }

    func testOffsetsOutOfRange() throws {
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        try assertRejects(safetensorsBytes(header: header, data: Data(count: 4)), ["'w'", "beyond the data buffer"])
    }

    func testHole() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        try assertRejects(safetensorsBytes(header: header, data: Data(count: 12)), ["'b'", "hole", "offset 8"])
    }

    func testOverlap() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try assertRejects(safetensorsBytes(header: header, data: eightBytes), ["'b'", "overlap"])
    }

    func testTrailingBytes() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        try assertRejects(safetensorsBytes(header: header, data: eightBytes), ["4 trailing bytes"])
    }

    func testUnknownDType() throws {
        let header = #"{"a":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}"#
        try assertRejects(safetensorsBytes(header: header, data: Data(count: 4)), ["'a'", "unknown dtype 'F12'"])
    }

    func testSizeDoesNotMatchShape() throws {
        let header = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        try assertRejects(safetensorsBytes(header: header, data: eightBytes), ["'a'", "needs 12"])
    }

    func testNegativeShape() throws {
        let header = #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#
        try assertRejects(safetensorsBytes(header: header, data: eightBytes), ["'a'", "negative"])
    }

    func testDuplicateNames() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try assertRejects(safetensorsBytes(header: header, data: eightBytes), ["'a'", "more than once"])
    }

    func testBadMetadata() throws {
        let header = #"{"__metadata__":{"format":1}}"#
        try assertRejects(safetensorsBytes(header: header, data: Data()), ["__metadata__", "not a string"])
    }

    func testUnsupportedDTypeOnRead() throws {
        let header = #"{"flags":{"dtype":"BOOL","shape":[4],"data_offsets":[0,4]}}"#
        let url = try folder.file("bool.safetensors", safetensorsBytes(header: header, data: Data(count: 4)))
        let file = try SafeTensorsFile(url: url)
        assertFormatError(try file.tensor("flags"), contains: ["bool.safetensors", "'flags'", "BOOL"])
        assertFormatError(try file.tensor("nope"), contains: ["bool.safetensors", "missing tensor 'nope'"])
    }

    func testMissingFile() {
        assertFormatError(try SafeTensorsFile(url: folder.url.appendingPathComponent("none.safetensors")),
                          contains: ["none.safetensors", "not found"])
    }

    /// Truncating a valid file anywhere, or overwriting header bytes, must throw (or, for harmless edits, load) —
    /// never trap. Every truncation must be rejected: safetensors forbids missing and trailing bytes alike.
    func testFuzzTruncationAndCorruption() throws {
        let valid = try Fixtures.data("safetensors/mixed.safetensors")
        let url = folder.url.appendingPathComponent("fuzz.safetensors")
        for length in 0..<valid.count {
            try valid.prefix(length).write(to: url)
            XCTAssertThrowsError(try SafeTensorsFile(url: url), "truncated to \(length) bytes")
        }
        var generator = SplitMix64(seed: 42)
        let headerEnd = 8 + Int(valid.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        for _ in 0..<400 {
            var bytes = valid
            let position = Int(generator.next() % UInt64(headerEnd))
            bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            try bytes.write(to: url)
            do {
                let file = try SafeTensorsFile(url: url)
                for name in file.names { _ = try? file.tensor(name).floats() }
            } catch {
                XCTAssertTrue(error is FormatError, "\(error)")
            }
        }
    }
}

/// A small deterministic generator for the fuzz tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
