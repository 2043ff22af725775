// encode and decode: added tokens on the raw text → normalizer → added tokens on normalized text →
// pre-tokenizer → BPE per piece → post-processor; decode runs the decoder over the id's pieces.

extension Tokenizer {
    /// Token ids for `text`; with `addSpecialTokens` the post-processor adds BOS/EOS as tokenizer.json says.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        run(text, offsets: false) { id, _, _ in ids.append(id) }
        guard addSpecialTokens, let postProcessor else { return ids }
        let (prefix, suffix) = postProcessor.affixes
        return prefix.isEmpty && suffix.isEmpty ? ids : prefix + ids + suffix
    }

    /// Token ids with the UTF-8 byte range each came from (special tokens the post-processor adds get an empty
    /// range). A token that covers part of a multi-byte character gets that whole character's range.
    public func encodeWithOffsets(_ text: String, addSpecialTokens: Bool = true) -> [EncodedToken] {
        var tokens: [EncodedToken] = []
        let trim = postProcessor?.byteLevelTrim
        run(text, offsets: true) { id, range, addedText in
            var range = range
            if let addPrefixSpace = trim {
                range = PostProcessor.trim(range, text: addedText ?? tokenString(for: id) ?? "",
                                           isFirst: tokens.isEmpty || range.lowerBound == 0, addPrefixSpace: addPrefixSpace)
            }
            tokens.append(EncodedToken(id: id, utf8Range: range))
        }
        guard addSpecialTokens, let postProcessor else { return tokens }
        return postProcessor.process(tokens)
    }

    /// The encode pipeline; `emit` receives each id and, when `offsets` is set, its original byte range and, for
    /// added tokens, the text they matched (stripped spaces included).
    func run(_ text: String, offsets: Bool, emit: (Int, Range<Int>, String?) -> Void) {
        var work = WorkText(text)
        let whole = 0..<work.scalars.count
        if whole.isEmpty { return }
        var scratch = MergeScratch()
        var wordTokens: [WordToken] = []
        var bytes: [UInt8] = []
        var byteScalar: [Int] = []
        var rawSegments: [Segment] = []
        rawMatcher.split(work, whole, into: &rawSegments)
        var normalizedSegments: [Segment] = []
        for segment in rawSegments {
            if let id = segment.id {
                emit(id, offsets ? work.originalRange(segment.range) : 0..<0, offsets ? work.string(segment.range) : nil)
                continue
            }
            let normalizedRange = normalizer?.apply(segment.range, &work) ?? segment.range
            if normalizedRange.isEmpty { continue }
            normalizedSegments.removeAll(keepingCapacity: true)
            normalizedMatcher.split(work, normalizedRange, into: &normalizedSegments)
            for inner in normalizedSegments {
                if let id = inner.id {
                    emit(id, offsets ? work.originalRange(inner.range) : 0..<0, offsets ? work.string(inner.range) : nil)
                    continue
                }
                if inner.range.isEmpty { continue }
                var pieces = [inner.range]
                preTokenizer?.apply(&pieces, &work)
                for piece in pieces where !piece.isEmpty {
                    wordTokens.removeAll(keepingCapacity: true)
                    if byteLevel {
                        bytes.removeAll(keepingCapacity: true)
                        byteScalar.removeAll(keepingCapacity: true)
                        for index in piece {
                            let scalar = work.scalars[index]
                            let value = scalar.value
                            if value < 0x80 {
                                bytes.append(UInt8(value))
                                if offsets { byteScalar.append(index) }
                            } else {
                                let count = appendUTF8(scalar, to: &bytes)
                                if offsets { for _ in 0..<count { byteScalar.append(index) } }
                            }
                        }
                        model.tokenize(byteLevelWord: bytes[...], into: &wordTokens, scratch: &scratch)
                        for token in wordTokens {
                            let range = offsets
                                ? work.originalRange(byteScalar[token.units.lowerBound]..<(byteScalar[token.units.upperBound - 1] + 1))
                                : 0..<0
                            emit(token.id, range, nil)
                        }
                    } else {
                        model.tokenize(characters: Array(work.scalars[piece]), into: &wordTokens, scratch: &scratch)
                        for token in wordTokens {
                            let range = offsets
                                ? work.originalRange((piece.lowerBound + token.units.lowerBound)..<(piece.lowerBound + token.units.upperBound))
                                : 0..<0
                            emit(token.id, range, nil)
                        }
                    }
                }
            }
        }
    }

    /// Text for `ids`: each id's piece (unknown ids are skipped; special tokens too when `skipSpecialTokens`)
    /// goes through the decoder; without a decoder pieces are joined with spaces, as tokenizers does.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var pieces: [String] = []
        pieces.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens && specialTokenIDs.contains(id) { continue }
            if let piece = tokenString(for: id) { pieces.append(piece) }
        }
        guard let decoder else { return pieces.joined(separator: " ") }
        return decoder.decode(pieces)
    }
}
