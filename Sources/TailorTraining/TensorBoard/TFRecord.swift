// TFRecord framing, as TensorBoard reads event files: each record is its length (u64 little-endian), the masked
// CRC32C of those 8 bytes, the bytes, and their masked CRC32C.
import Foundation

enum TFRecord {
    /// One framed record.
    static func frame(_ payload: Data) -> Data {
        var length = UInt64(payload.count).littleEndian
        let header = withUnsafeBytes(of: &length) { Data($0) }
        var out = Data(capacity: payload.count + 16)
        out += header
        out += littleEndian(maskedCRC32C(header))
        out += payload
        out += littleEndian(maskedCRC32C(payload))
        return out
    }

    /// The payloads of framed records; throws on a short record or a checksum that does not match.
    static func records(in data: Data) throws -> [Data] {
        var records: [Data] = [], offset = data.startIndex
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[at + $1]) << (8 * $1) } }
        while offset < data.endIndex {
            guard data.endIndex - offset >= 12 else { throw TFRecordError.truncated(offset: offset - data.startIndex) }
            let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[offset + $1]) << (8 * UInt64($1)) }
            guard u32(offset + 8) == maskedCRC32C(data[offset..<offset + 8]) else { throw TFRecordError.badChecksum(offset: offset - data.startIndex) }
            let start = offset + 12
            guard length <= UInt64(data.endIndex - start), data.endIndex - start - Int(length) >= 4 else {
                throw TFRecordError.truncated(offset: offset - data.startIndex)
            }
            let end = start + Int(length)
            guard u32(end) == maskedCRC32C(data[start..<end]) else { throw TFRecordError.badChecksum(offset: offset - data.startIndex) }
            records.append(Data(data[start..<end]))
            offset = end + 4
        }
        return records
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TensorFlow's crc32c.
    static func crc32c<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TensorFlow masks stored checksums so that a CRC of data holding CRCs stays well distributed.
    static func maskedCRC32C<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    static let table: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
    }

    static func littleEndian(_ value: UInt32) -> Data {
        var v = value.littleEndian
        return withUnsafeBytes(of: &v) { Data($0) }
    }
}

/// A malformed TFRecord file.
enum TFRecordError: Error, CustomStringConvertible, Equatable {
    case truncated(offset: Int)
    case badChecksum(offset: Int)

    var description: String {
        switch self {
        case .truncated(let offset): return "TFRecord: truncated record at byte \(offset)"
        case .badChecksum(let offset): return "TFRecord: checksum mismatch in the record at byte \(offset)"
        }
    }
}
