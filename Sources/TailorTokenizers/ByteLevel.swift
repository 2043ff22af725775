// GPT-2's byte-to-unicode table (tokenizers' bytes_char): printable Latin-1 bytes map to themselves, the other 68
// bytes (0x00-0x20, 0x7F-0xA0, 0xAD) map in order to U+0100...U+0143, so " " becomes "Ġ" and "\n" becomes "Ċ".

enum ByteLevel {
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var extra: UInt32 = 0x100
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(extra) ?? " "
                extra += 1
            }
        }
        return table
    }()

    /// Inverse of `byteToScalar`, indexed by code point (only U+0000...U+0143 are used).
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in byteToScalar.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// `<0xNN>`, the SentencePiece byte-fallback token for `byte` (upper-case hex, as tokenizers formats it).
    static func fallbackToken(_ byte: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        return "<0x" + String(digits[byte >> 4]) + String(digits[byte & 15]) + ">"
    }
}
