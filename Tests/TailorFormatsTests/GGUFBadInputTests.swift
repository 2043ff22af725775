// GGUF bad input: each malformed file throws a FormatError naming the file and the tensor, key or offset.
import Foundation
import TailorFormats
import TailorTensor
import XCTest

final class GGUFBadInputTests: XCTestCase {
    private var folder: TemporaryFolder!
    private var valid = Data()
    override func setUpWithError() throws {
        folder = try TemporaryFolder()
        valid = try Fixtures.data("gguf/tiny_qwen2.gguf")
    }
    override func tearDown() { folder = nil }

    private func write(_ bytes: Data) throws -> URL { try folder.file("bad-\(UUID().uuidString).gguf", bytes) }

    private func assertRejects(_ bytes: Data, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try write(bytes)
        assertFormatError(try GGUFFile(url: url), contains: [url.lastPathComponent] + fragments, file: file, line: line)
    }

    /// Position just after the GGUF string `text` (u64 length + bytes) in `data`.
    private func endOfString(_ text: String, in data: Data) throws -> Int {
        let needle = [UInt8](Data.le(UInt64(text.utf8.count)) + Data(text.utf8))
        let bytes = [UInt8](data)
        for start in 0...(bytes.count - needle.count) where bytes[start..<(start + needle.count)].elementsEqual(needle) {
            return start + needle.count
        }
        throw FixtureError.missing("'\(text)' not found in the fixture")
    }

    private func patch(_ data: Data, at offset: Int, _ bytes: Data) -> Data {
        var copy = data
        copy.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        return copy
    }

    func testBadMagic() throws {
        try assertRejects(patch(valid, at: 0, Data("GGML".utf8)), ["bad magic", "offset 0", "not a GGUF file"])
    }

    func testUnsupportedVersions() throws {
        try assertRejects(patch(valid, at: 4, Data.le(UInt32(1))), ["unsupported GGUF version 1"])
        try assertRejects(patch(valid, at: 4, Data.le(UInt32(4))), ["unsupported GGUF version 4"])
    }

    func testVersion2IsAccepted() throws {
        // v2 has the same layout as v3 (v3 only added big-endian files).
        let file = try GGUFFile(url: try write(patch(valid, at: 4, Data.le(UInt32(2)))))
        XCTAssertEqual(file.version, 2)
        XCTAssertEqual(file.tensorInfos.count, 27)
    }

    func testTruncatedMetadata() throws {
        let error = assertFormatError(try GGUFFile(url: try write(valid.prefix(200))), contains: ["truncated at offset"])
        XCTAssertNotNil(error)
        // Cut inside the token list: the message names the array.
        let tokens = try endOfString("tokenizer.ggml.tokens", in: valid)
        try assertRejects(valid.prefix(tokens + 30), ["truncated", "tokenizer.ggml.tokens"])
    }

    func testHugeCountsAreRejectedBeforeAllocating() throws {
        try assertRejects(patch(valid, at: 16, Data.le(UInt64.max)), ["out of range"])
        try assertRejects(patch(valid, at: 16, Data.le(UInt64(1) << 40)), ["truncated"])
        let tokens = try endOfString("tokenizer.ggml.tokens", in: valid)
        // Array header after the key: u32 value type (9), u32 element type, u64 count.
        try assertRejects(patch(valid, at: tokens + 8, Data.le(UInt64(1) << 60)), ["truncated", "tokenizer.ggml.tokens"])
    }

    /// Offset of the u32 type field of tensor `name` (2-D): after the name come n_dims, two u64 dims, the type.
    private func typeField(_ name: String) throws -> Int { try endOfString(name, in: valid) + 4 + 16 }

    func testUnsupportedTensorType() throws {
        let q5 = try write(patch(valid, at: try typeField("blk.0.attn_q.weight"), Data.le(UInt32(6))))
        let file = try GGUFFile(url: q5)
        XCTAssertEqual(file.info("blk.0.attn_q.weight")?.typeName, "Q5_0")
        assertFormatError(try file.tensor("blk.0.attn_q.weight"), contains: [q5.lastPathComponent, "'blk.0.attn_q.weight'", "Q5_0"])
        assertFormatError(try ModelCheckpoint.load(from: q5), contains: ["'blk.0.attn_q.weight'", "unsupported type Q5_0"])
        try assertRejects(patch(valid, at: try typeField("blk.0.attn_q.weight"), Data.le(UInt32(99))),
                          ["'blk.0.attn_q.weight'", "ggml type id 99"])
    }

    func testMisShapedTensor() throws {
        // blk.0.attn_norm.weight is 1-D [64]; claim [32] (fewer bytes, so the layout stays valid).
        let dim = try endOfString("blk.0.attn_norm.weight", in: valid) + 4
        let url = try write(patch(valid, at: dim, Data.le(UInt64(32))))
        assertFormatError(try ModelCheckpoint.load(from: url),
                          contains: [url.lastPathComponent, "'model.layers.0.input_layernorm.weight'", "shape [32], expected [64]"])
    }

    func testMisalignedAndOutOfRangeTensorData() throws {
        let offsetField = try typeField("blk.1.attn_v.weight") + 4
        let offset = valid[offsetField..<(offsetField + 8)].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        try assertRejects(patch(valid, at: offsetField, Data.le(offset + 4)), ["'blk.1.attn_v.weight'", "not a multiple of the alignment 64"])
        try assertRejects(patch(valid, at: offsetField, Data.le(UInt64(1) << 40)), ["'blk.1.attn_v.weight'", "beyond the end of the file"])
        try assertRejects(patch(valid, at: offsetField, Data.le(UInt64(0))), ["overlaps"])
    }

    func testTruncatedTensorData() throws {
        try assertRejects(valid.prefix(valid.count - 5000), ["truncated", "data of tensor"])
    }

    func testUnknownArchitecture() throws {
        let value = try endOfString("general.architecture", in: valid) + 4 + 8
        let url = try write(patch(valid, at: value, Data("gpt99".utf8)))
        assertFormatError(try ModelCheckpoint.load(from: url), contains: [url.lastPathComponent, "unsupported architecture 'gpt99'"])
    }

    /// Truncation anywhere before the end of the last tensor must throw; byte edits in the header must throw a
    /// FormatError or load — never trap.
    func testFuzzTruncationAndCorruption() throws {
        let file = try GGUFFile(url: try Fixtures.url("gguf/tiny_qwen2.gguf"))
        let dataEnd = file.tensorInfos.map { file.dataOffset + $0.offset + $0.byteCount }.max() ?? valid.count
        let url = folder.url.appendingPathComponent("fuzz.gguf")
        let cuts = Array(stride(from: 0, to: file.dataOffset + 64, by: 3)) + Array(stride(from: file.dataOffset, to: dataEnd, by: 997))
        for length in cuts {
            try valid.prefix(length).write(to: url)
            XCTAssertThrowsError(try GGUFFile(url: url), "truncated to \(length) bytes") { XCTAssertTrue($0 is FormatError) }
        }
        var generator = SplitMix64(seed: 7)
        for _ in 0..<300 {
            var bytes = valid
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                bytes[Int(generator.next() % UInt64(file.dataOffset))] = UInt8(truncatingIfNeeded: generator.next())
            }
            try bytes.write(to: url)
            do {
                _ = try ModelCheckpoint.load(from: url)
            } catch {
                XCTAssertTrue(error is FormatError, "\(error)")
            }
        }
    }
}
