// Decoders of tokenizer.json: turn token strings back into text (tokenizers' decode_chain, step by step).

indirect enum Decoder: Sendable {
    case byteLevel
    case replace(pattern: String, content: String)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme)
    case sequence([Decoder])

    /// Runs the chain and joins the resulting pieces.
    func decode(_ tokens: [String]) -> String {
        decodeChain(tokens).joined()
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .sequence(let steps):
            var current = tokens
            for step in steps { current = step.decodeChain(current) }
            return current
        case .byteLevel:
            // Each token maps back to bytes when all its chars are byte-level chars; otherwise its own UTF-8 is
            // kept (added tokens such as "hello world"). Invalid UTF-8 becomes U+FFFD (maximal subparts).
            var bytes: [UInt8] = []
            for token in tokens {
                var mapped: [UInt8] = []
                mapped.reserveCapacity(token.utf8.count)
                var ok = true
                for scalar in token.unicodeScalars {
                    let value = Int(scalar.value)
                    if value < ByteLevel.scalarToByte.count, ByteLevel.scalarToByte[value] >= 0 {
                        mapped.append(UInt8(ByteLevel.scalarToByte[value]))
                    } else {
                        ok = false
                        break
                    }
                }
                bytes.append(contentsOf: ok ? mapped : Array(token.utf8))
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .replace(let pattern, let content):
            guard !pattern.isEmpty else { return tokens }
            return tokens.map { $0.replacingAll(pattern, with: content) }
        case .byteFallback:
            var output: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let valid = String(validating: pending, as: UTF8.self) {
                    output.append(valid)
                } else {
                    // tokenizers emits one U+FFFD per byte when the run is not valid UTF-8.
                    output.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = Self.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    output.append(token)
                }
            }
            flush()
            return output
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let chars = Array(token.unicodeScalars)  // Rust chars are scalars, not grapheme clusters
                var lower = 0
                while lower < min(start, chars.count) && chars[lower] == content { lower += 1 }
                var upper = chars.count
                var removed = 0
                while removed < stop && upper > lower && chars[upper - 1] == content { upper -= 1; removed += 1 }
                var view = String.UnicodeScalarView()
                view.append(contentsOf: chars[lower..<upper])
                return String(view)
            }
        case .metaspace(let replacement, let scheme):
            // The first token loses every replacement char (not only a leading one), as in tokenizers.
            return tokens.enumerated().map { index, token in
                var result = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar == replacement {
                        if !(index == 0 && scheme != .never) { result.append(" ") }
                    } else {
                        result.append(scalar)
                    }
                }
                return String(result)
            }
        }
    }

    /// The byte of a `<0xNN>` token (exactly six characters), else nil.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == 0x3C, utf8[1] == 0x30, utf8[2] == 0x78, utf8[5] == 0x3E else { return nil }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        guard let high = hex(utf8[3]), let low = hex(utf8[4]) else { return nil }
        return high << 4 | low
    }
}

extension String {
    /// Replaces every non-overlapping occurrence of `pattern`, left to right (Rust's str::replace).
    func replacingAll(_ pattern: String, with content: String) -> String {
        let source = Array(unicodeScalars), needle = Array(pattern.unicodeScalars)
        guard !needle.isEmpty, source.count >= needle.count else { return self }
        var result = String.UnicodeScalarView()
        var i = 0
        while i < source.count {
            if i + needle.count <= source.count && source[i..<(i + needle.count)].elementsEqual(needle) {
                result.append(contentsOf: content.unicodeScalars)
                i += needle.count
            } else {
                result.append(source[i])
                i += 1
            }
        }
        return String(result)
    }
}
