// TensorBoard event files: CRC-32C against published check values, TFRecord framing read back (and rejected when
// a byte changes), and Event protos decoded with the same generated types.
import Foundation
import XCTest
@testable import TailorTraining

final class TensorBoardTests: XCTestCase {
    func testCRC32CKnownVectors() {
        // RFC 3720 (iSCSI) appendix B.4 and the CRC catalogue's check value for "123456789".
        XCTAssertEqual(TFRecord.crc32c(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(TFRecord.crc32c([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(TFRecord.crc32c([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(TFRecord.crc32c((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(TFRecord.crc32c((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
        XCTAssertEqual(TFRecord.crc32c([]), 0)
        // TensorFlow's masking (tensorflow/core/lib/hash/crc32c.h): rotate right by 15, add 0xa282ead8.
        let crc = TFRecord.crc32c(Array("123456789".utf8))
        XCTAssertEqual(TFRecord.maskedCRC32C(Array("123456789".utf8)), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    func testFramingReadsBackAndRejectsCorruption() throws {
        let payloads = [Data("hello".utf8), Data(), Data((0..<300).map { UInt8($0 % 251) })]
        var file = Data()
        for p in payloads { file += TFRecord.frame(p) }
        XCTAssertEqual(file.count, payloads.reduce(0) { $0 + $1.count + 16 })
        XCTAssertEqual(Array(file.prefix(8)), [5, 0, 0, 0, 0, 0, 0, 0], "u64 little-endian length")
        XCTAssertEqual(try TFRecord.records(in: file), payloads)
        var corrupt = file
        corrupt[14] ^= 1
        XCTAssertThrowsError(try TFRecord.records(in: corrupt)) { XCTAssertEqual($0 as? TFRecordError, .badChecksum(offset: 0)) }
        XCTAssertThrowsError(try TFRecord.records(in: file.dropLast(2))) { XCTAssertEqual($0 as? TFRecordError, .truncated(offset: 37)) }
    }

    func testWriterEventsDecode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-tb-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try TensorBoardWriter(directory: dir)
        try writer.addText(tag: "args", "| key | value |")
        try writer.addScalars([("train/loss", 2.5)], step: 3)
        try writer.close()
        XCTAssertTrue(writer.file.lastPathComponent.hasPrefix("events.out.tfevents."))
        let events = try TFRecord.records(in: Data(contentsOf: writer.file)).map { try Tensorboard_Event(serializedBytes: $0) }
        XCTAssertEqual(events.count, 3)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[1].summary.value[0].metadata.pluginData.pluginName, "text")
        XCTAssertEqual(events[1].summary.value[0].tensor.stringVal, [Data("| key | value |".utf8)])
        XCTAssertEqual(events[2].step, 3)
        XCTAssertEqual(events[2].summary.value[0].simpleValue, 2.5)
    }

    /// tag → (step, value) of every simple-value scalar in an event file.
    static func readScalars(_ file: URL) throws -> [String: [(step: Int, value: Float)]] {
        var out: [String: [(step: Int, value: Float)]] = [:]
        for record in try TFRecord.records(in: Data(contentsOf: file)) {
            let event = try Tensorboard_Event(serializedBytes: record)
            for v in event.summary.value {
                if case .simpleValue(let x) = v.value { out[v.tag, default: []].append((Int(event.step), x)) }
            }
        }
        return out
    }
}
