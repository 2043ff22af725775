// The .tdata binary dataset: a fixed header, row offsets and token columns, written atomically and memory-mapped
// when read.
import Foundation

/// A prepared dataset file, memory-mapped.
///
/// Layout (all little-endian):
///
///     0   magic "TAILORDS" (8 bytes)
///     8   version u32 (1)
///     12  flags u32 (bit 0: packed, i.e. segment and position columns present)
///     16  row count R u64
///     24  token count N u64
///     32  CRC-32 (zlib) of every byte from 64 to the end of the file, u32
///     36  header size u32 (64)
///     40  reserved, zero (24 bytes)
///     64  row offsets: R + 1 × u64, token index where row r starts; offsets[0] = 0, offsets[R] = N
///         ids: N × u32 | labels: N × i32
///         packed only: segments: N × i16, zero padding to a multiple of 4 bytes, positions: N × u32
///
/// Columns rather than interleaved records keep every array naturally aligned and let a reader take one row as
/// contiguous slices.
public struct PreparedDataset: Sendable {
    public static let magic: [UInt8] = Array("TAILORDS".utf8)
    public static let version: UInt32 = 1
    static let headerSize = 64

    public let path: String
    public let rowCount: Int
    public let tokenCount: Int
    public let isPacked: Bool
    private let data: Data
    private let idsStart: Int, labelsStart: Int, segmentsStart: Int, positionsStart: Int

    /// Opens and validates `url`: magic, version, sizes against the file length, checksum, and that offsets rise
    /// from 0 to the token count. Throws a named `DataError` for each failure.
    public init(contentsOf url: URL) throws {
        path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.datasetNotFound(path: path) }
        do {
            data = try Data(contentsOf: url, options: [.alwaysMapped])
        } catch {
            throw DataError.datasetNotFound(path: path)
        }
        let path = self.path
        guard data.count >= Self.headerSize else {
            if data.count >= 8 && Array(data.prefix(8)) != Self.magic { throw DataError.badMagic(path: path) }
            throw DataError.corruptDataset(path: path, offset: 0, message: "\(data.count) bytes is shorter than the 64-byte header")
        }
        guard Array(data.prefix(8)) == Self.magic else { throw DataError.badMagic(path: path) }
        let (version, flags, rows, tokens, checksum) = data.withUnsafeBytes { raw in
            (raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian,
             raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian,
             raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian,
             raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self).littleEndian,
             raw.loadUnaligned(fromByteOffset: 32, as: UInt32.self).littleEndian)
        }
        guard version == Self.version else { throw DataError.unsupportedVersion(path: path, version: version) }
        guard rows < UInt64(Int32.max), tokens < UInt64(Int.max / 16) else {
            throw DataError.corruptDataset(path: path, offset: 16, message: "row count \(rows) or token count \(tokens) is implausible")
        }
        rowCount = Int(rows)
        tokenCount = Int(tokens)
        isPacked = flags & 1 != 0
        let layout = Self.layout(rows: rowCount, tokens: tokenCount, packed: isPacked)
        (idsStart, labelsStart, segmentsStart, positionsStart) = (layout.ids, layout.labels, layout.segments, layout.positions)
        guard layout.total == data.count else {
            throw DataError.corruptDataset(path: path, offset: min(layout.total, data.count),
                                           message: "header describes \(layout.total) bytes but the file has \(data.count) (truncated or appended)")
        }
        let actual = data.withUnsafeBytes { CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0[Self.headerSize...])) }
        guard actual == checksum else { throw DataError.checksumMismatch(path: path, expected: checksum, actual: actual) }
        var previous: UInt64 = 0
        for r in 0...rowCount {
            let o = offset(r)
            guard (r == 0 && o == 0) || (r > 0 && o >= previous), o <= tokens, r < rowCount || o == tokens else {
                throw DataError.corruptDataset(path: path, offset: Self.headerSize + 8 * r, message: "row offset \(r) = \(o) is out of order or out of bounds")
            }
            previous = o
        }
    }

    /// Byte positions of each section for a dataset of this shape.
    static func layout(rows: Int, tokens: Int, packed: Bool) -> (ids: Int, labels: Int, segments: Int, positions: Int, total: Int) {
        let ids = headerSize + 8 * (rows + 1)
        let labels = ids + 4 * tokens
        let segments = labels + 4 * tokens
        guard packed else { return (ids, labels, segments, segments, segments) }
        let positions = segments + (2 * tokens + 3) / 4 * 4
        return (ids, labels, segments, positions, positions + 4 * tokens)
    }

    private func offset(_ r: Int) -> UInt64 {
        data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: Self.headerSize + 8 * r, as: UInt64.self).littleEndian }
    }

    /// Row `index` (0 ≤ index < rowCount).
    public func row(at index: Int) -> PreparedRow {
        precondition(index >= 0 && index < rowCount, "row \(index) out of 0..<\(rowCount)")
        let start = Int(offset(index)), end = Int(offset(index + 1))
        return data.withUnsafeBytes { raw in
            func column<T: FixedWidthInteger>(_ base: Int, _ type: T.Type) -> [Int32] {
                (start..<end).map { Int32(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: base + MemoryLayout<T>.size * $0, as: T.self).littleEndian) }
            }
            return PreparedRow(inputIDs: column(idsStart, UInt32.self), labels: column(labelsStart, Int32.self),
                               segments: isPacked ? column(segmentsStart, Int16.self) : nil,
                               positions: isPacked ? column(positionsStart, UInt32.self) : nil)
        }
    }

    /// All rows.
    public func rows() -> [PreparedRow] { (0..<rowCount).map(row(at:)) }

    /// Opens `url` and returns all its rows.
    public static func read(_ url: URL) throws -> [PreparedRow] { try PreparedDataset(contentsOf: url).rows() }

    /// Serialises `rows`; packed when every row has segments and positions (mixing is a programmer error).
    public static func encode(_ rows: [PreparedRow]) throws -> Data {
        let packed = !rows.isEmpty && rows.allSatisfy { $0.segments != nil && $0.positions != nil }
        let tokens = rows.reduce(0) { $0 + $1.count }
        let layout = layout(rows: rows.count, tokens: tokens, packed: packed)
        var bytes = [UInt8](repeating: 0, count: layout.total)
        try bytes.withUnsafeMutableBytes { raw in
            func put<T: FixedWidthInteger>(_ value: T, _ at: Int) { raw.storeBytes(of: value.littleEndian, toByteOffset: at, as: T.self) }
            for (i, b) in magic.enumerated() { raw[i] = b }
            put(version, 8); put(UInt32(packed ? 1 : 0), 12); put(UInt64(rows.count), 16); put(UInt64(tokens), 24)
            put(UInt32(headerSize), 36)
            var t = 0
            for (r, row) in rows.enumerated() {
                guard row.labels.count == row.count, !packed || (row.segments?.count == row.count && row.positions?.count == row.count) else {
                    throw DataError.invalidOption("row \(r): ids, labels, segments and positions must have equal lengths")
                }
                put(UInt64(t), headerSize + 8 * r)
                for k in 0..<row.count {
                    put(UInt32(bitPattern: row.inputIDs[k]), layout.ids + 4 * (t + k))
                    put(row.labels[k], layout.labels + 4 * (t + k))
                    if packed, let s = row.segments, let p = row.positions {
                        guard let s16 = Int16(exactly: s[k]), p[k] >= 0 else {
                            throw DataError.invalidOption("row \(r): segment \(s[k]) or position \(p[k]) does not fit the i16/u32 columns")
                        }
                        put(s16, layout.segments + 2 * (t + k))
                        put(UInt32(p[k]), layout.positions + 4 * (t + k))
                    }
                }
                t += row.count
            }
            put(UInt64(t), headerSize + 8 * rows.count)
            put(CRC32.update(0, UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[headerSize...])), 32)
        }
        return Data(bytes)
    }

    /// Writes `rows` to `url` atomically (a temporary file renamed into place).
    public static func write(_ rows: [PreparedRow], to url: URL) throws {
        try writeAtomically(try encode(rows), to: url)
    }
}

/// Writes bytes to a temporary file beside `url` and renames it over `url`.
func writeAtomically(_ data: Data, to url: URL) throws {
    do {
        try data.write(to: url, options: [.atomic])
    } catch {
        throw DataError.writeFailed(path: url.path, message: "\(error)")
    }
}
