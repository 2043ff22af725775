// A SentencePiece model file (tokenizer.model): the protobuf ModelProto, of which only the pieces are read —
// field 1 `pieces`, each a message with 1 `piece` (string), 2 `score` (float), 3 `type` (enum: 1 normal, 2 unknown,
// 3 control, 4 user-defined, 5 unused, 6 byte; absent = normal). Other fields (trainer and normalizer specs) are
// skipped by their wire type.
import Foundation

/// The pieces of a tokenizer.model file, in id order.
struct SentencePieceModelFile {
    enum PieceType: Int { case normal = 1, unknown, control, userDefined, unused, byte }

    struct Piece {
        var text: String
        var score: Float
        var type: PieceType
    }

    var pieces: [Piece] = []

    /// Parses `url`; throws `ExportError.unsupported` naming the file and byte offset of a malformed field.
    init(url: URL) throws {
        let bytes = try [UInt8](Data(contentsOf: url))
        func fail(_ offset: Int, _ why: String) -> ExportError {
            .unsupported("\(url.path): not a SentencePiece model (byte \(offset): \(why))")
        }
        try Self.fields(bytes, 0..<bytes.count, fail: fail) { field, wire, range in
            guard field == 1, wire == 2 else { return }
            var piece = Piece(text: "", score: 0, type: .normal)
            try Self.fields(bytes, range, fail: fail) { f, w, r in
                switch (f, w) {
                case (1, 2): piece.text = String(decoding: bytes[r], as: UTF8.self)
                case (2, 5):
                    let bits = bytes[r].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
                    piece.score = Float(bitPattern: bits)
                case (3, 0):
                    let value = Self.varint(bytes, r.lowerBound)?.value ?? 1
                    piece.type = PieceType(rawValue: Int(value)) ?? .normal
                default: break
                }
            }
            pieces.append(piece)
        }
        guard !pieces.isEmpty else { throw fail(0, "no pieces") }
    }

    /// Walks the protobuf fields in `range`: `body(field number, wire type, payload range)`; a varint payload's range
    /// starts at the varint.
    private static func fields(_ b: [UInt8], _ range: Range<Int>, fail: (Int, String) -> ExportError,
                               _ body: (Int, Int, Range<Int>) throws -> Void) throws {
        var i = range.lowerBound
        while i < range.upperBound {
            guard let (key, keyEnd) = varint(b, i), keyEnd <= range.upperBound else { throw fail(i, "truncated field key") }
            let field = Int(key >> 3), wire = Int(key & 7)
            let payload: Range<Int>
            switch wire {
            case 0:
                guard let (_, end) = varint(b, keyEnd), end <= range.upperBound else { throw fail(keyEnd, "truncated varint") }
                payload = keyEnd..<end
            case 1: payload = keyEnd..<(keyEnd + 8)
            case 2:
                guard let (length, start) = varint(b, keyEnd), length <= UInt64(range.upperBound - start) else {
                    throw fail(keyEnd, "length beyond the message")
                }
                payload = start..<(start + Int(length))
            case 5: payload = keyEnd..<(keyEnd + 4)
            default: throw fail(i, "wire type \(wire)")
            }
            guard payload.upperBound <= range.upperBound else { throw fail(keyEnd, "field beyond the message") }
            try body(field, wire, payload)
            i = payload.upperBound
        }
    }

    /// A base-128 varint at `i`: its value and the index after it.
    private static func varint(_ b: [UInt8], _ start: Int) -> (value: UInt64, end: Int)? {
        var value: UInt64 = 0, shift: UInt64 = 0, i = start
        while i < b.count, shift < 64 {
            value |= UInt64(b[i] & 0x7F) << shift
            i += 1
            if b[i - 1] & 0x80 == 0 { return (value, i) }
            shift += 7
        }
        return nil
    }
}
