// The .tdata format: round trips, and the named error for each kind of damage.
import Foundation
import XCTest
@testable import TailorData

final class PreparedDatasetTests: XCTestCase {
    let rows = [
        PreparedRow(inputIDs: [1, 2, 3], labels: [-100, 2, 3]),
        PreparedRow(inputIDs: [], labels: []),
        PreparedRow(inputIDs: [49151, 0], labels: [49151, -100]),
    ]

    func testCRC32CheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
    }

    func testRoundTrip() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("train.tdata")
        try PreparedDataset.write(rows, to: url)
        let dataset = try PreparedDataset(contentsOf: url)
        XCTAssertEqual(dataset.rowCount, 3)
        XCTAssertEqual(dataset.tokenCount, 5)
        XCTAssertFalse(dataset.isPacked)
        XCTAssertEqual(dataset.rows(), rows)
        XCTAssertEqual(try Data(contentsOf: url).count, 64 + 8 * 4 + 8 * 5)
    }

    func testPackedRoundTrip() throws {
        let packed = Packing.pack([PreparedRow(inputIDs: [5, 6, 7], labels: [5, 6, 7]), PreparedRow(inputIDs: [8, 9], labels: [-100, 9])], maxLength: 8)
        let url = try temporaryDirectory(self).appendingPathComponent("p.tdata")
        try PreparedDataset.write(packed, to: url)
        let back = try PreparedDataset.read(url)
        XCTAssertEqual(back, packed)
        XCTAssertEqual(back[0].segments, [0, 0, 0, 1, 1])
        XCTAssertEqual(back[0].positions, [0, 1, 2, 0, 1])
    }

    func testEmptyDataset() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("e.tdata")
        try PreparedDataset.write([], to: url)
        XCTAssertEqual(try PreparedDataset.read(url), [])
    }

    func damaged(_ edit: (inout [UInt8]) -> Void) throws -> URL {
        let url = try temporaryDirectory(self).appendingPathComponent("d.tdata")
        var bytes = [UInt8](try PreparedDataset.encode(rows))
        edit(&bytes)
        try Data(bytes).write(to: url)
        return url
    }

    func testNamedErrors() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("nope-\(UUID()).tdata")
        assertThrows(.datasetNotFound(path: missing.path)) { _ = try PreparedDataset(contentsOf: missing) }

        let magic = try damaged { $0[0] = UInt8(ascii: "X") }
        assertThrows(.badMagic(path: magic.path)) { _ = try PreparedDataset(contentsOf: magic) }

        let version = try damaged { $0[8] = 9 }
        assertThrows(.unsupportedVersion(path: version.path, version: 9)) { _ = try PreparedDataset(contentsOf: version) }

        let flipped = try damaged { $0[$0.count - 1] ^= 0x40 }
        XCTAssertThrowsError(try PreparedDataset(contentsOf: flipped)) { error in
            guard case .checksumMismatch? = error as? DataError else { return XCTFail("\(error)") }
        }

        let truncated = try damaged { $0.removeLast(4) }
        XCTAssertThrowsError(try PreparedDataset(contentsOf: truncated)) { error in
            guard case .corruptDataset? = error as? DataError else { return XCTFail("\(error)") }
        }

        let short = try damaged { $0.removeLast($0.count - 20) }
        XCTAssertThrowsError(try PreparedDataset(contentsOf: short)) { error in
            guard case .corruptDataset(_, 0, _)? = error as? DataError else { return XCTFail("\(error)") }
        }

        // Offsets out of order, with a valid checksum recomputed: caught by the bounds check.
        let offsets = try damaged { bytes in
            bytes[64 + 8] = 4  // offsets[1] = 4 > offsets[2] = 3
            let crc = bytes[64...].withUnsafeBytes { CRC32.update(0, $0) }
            withUnsafeBytes(of: crc.littleEndian) { for (i, b) in $0.enumerated() { bytes[32 + i] = b } }
        }
        XCTAssertThrowsError(try PreparedDataset(contentsOf: offsets)) { error in
            guard case let .corruptDataset(_, offset, _)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(offset, 64 + 16)
        }
    }

    func testErrorMessagesNameTheFile() {
        XCTAssertTrue(DataError.badMagic(path: "/x/train.tdata").description.contains("/x/train.tdata"))
        XCTAssertTrue(DataError.missingField(path: "d.jsonl", line: 12, field: "output", format: "alpaca").description.hasPrefix("d.jsonl:12:"))
    }
}
