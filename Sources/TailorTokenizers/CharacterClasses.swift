// Character classes exactly as the `tokenizers` library sees them: Oniguruma's \p{L}, \p{N}, \s (regex split
// patterns) and Rust's char::is_numeric (Digits pre-tokenizer), as one bit set per Unicode scalar.

/// Bits of a scalar's class. "Other" (none of letter/number/space) is the empty set.
enum CharClass {
    static let letter: UInt8 = 1      // Oniguruma \p{L}
    static let number: UInt8 = 2      // Oniguruma \p{N}
    static let space: UInt8 = 4       // Oniguruma \s = Unicode White_Space (same set as Rust's char::is_whitespace)
    static let rustNumeric: UInt8 = 8 // Rust char::is_numeric: general category Nd, Nl or No
    static let word: UInt8 = 16       // Rust regex \w (used by single_word added tokens)

    /// Classes of the Basic Multilingual Plane, built once; other planes are computed on demand.
    static let bmp: [UInt8] = (0..<0x10000).map { value -> UInt8 in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return 0 }
        return compute(scalar)
    }

    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> UInt8 {
        let value = scalar.value
        return value < 0x10000 ? bmp[Int(value)] : compute(scalar)
    }

    /// Swift's Unicode data is newer than the Oniguruma build inside tokenizers 0.23.3; these code points are
    /// letters (or numbers) to Swift but not to Oniguruma. Tests/TailorTokenizersTests checks every scalar against
    /// ranges dumped from the library (Fixtures/char_classes.json), so a Swift upgrade that adds more fails loudly.
    static let newerLetters: [ClosedRange<UInt32>] = [
        0x88F...0x88F, 0xC5C...0xC5C, 0xCDC...0xCDC, 0xA7CE...0xA7CF, 0xA7D2...0xA7D2, 0xA7D4...0xA7D4,
        0xA7F1...0xA7F1, 0x10940...0x10959, 0x10EC5...0x10EC7, 0x11DB0...0x11DDB, 0x16EA0...0x16EB8,
        0x16EBB...0x16ED3, 0x16FF2...0x16FF3, 0x187F8...0x187FF, 0x18D09...0x18D1E, 0x18D80...0x18DF2,
        0x1E6C0...0x1E6DE, 0x1E6E0...0x1E6E2, 0x1E6E4...0x1E6E5, 0x1E6E7...0x1E6ED, 0x1E6F0...0x1E6F4,
        0x1E6FE...0x1E6FF, 0x2B73A...0x2B73F, 0x2CEA2...0x2CEAD, 0x323B0...0x33479,
    ]
    static let newerNumbers: [ClosedRange<UInt32>] = [0x11DE0...0x11DE9, 0x16FF4...0x16FF6]

    static func compute(_ scalar: Unicode.Scalar) -> UInt8 {
        let properties = scalar.properties
        var bits: UInt8 = 0
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            if !newerLetters.contains(where: { $0.contains(scalar.value) }) { bits |= letter }
        case .decimalNumber, .letterNumber, .otherNumber:
            bits |= rustNumeric
            if !newerNumbers.contains(where: { $0.contains(scalar.value) }) { bits |= number }
        default:
            break
        }
        if properties.isWhitespace { bits |= space }
        // Rust regex \w: Alphabetic, marks, decimal numbers, connector punctuation, Join_Control.
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            bits |= word
        default:
            if properties.isAlphabetic || properties.isJoinControl { bits |= word }
        }
        return bits
    }
}
