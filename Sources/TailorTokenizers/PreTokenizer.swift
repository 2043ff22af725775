// Pre-tokenizers of tokenizer.json: split normalized text into pieces (ranges of WorkText) before the model.

/// How a split pattern's matches become pieces (tokenizers' SplitDelimiterBehavior).
enum SplitBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

/// A `Split` pattern we can reproduce exactly.
enum SplitPattern: Sendable, Equatable {
    case gpt2, llama3, qwen2
    case literal([Unicode.Scalar])
}

/// Metaspace's rule for adding the replacement character in front of a piece.
enum PrependScheme: String, Sendable {
    case always, first, never
}

indirect enum PreTokenizer: Sendable {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case digits(individual: Bool)
    case split(SplitPattern, SplitBehavior, invert: Bool)
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
    case whitespaceSplit
    case sequence([PreTokenizer])

    /// Whether the model sees byte-level characters (each UTF-8 byte mapped to one printable char).
    var isByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let steps): return steps.contains { $0.isByteLevel }
        default: return false
        }
    }

    func apply(_ pieces: inout [Range<Int>], _ text: inout WorkText) {
        var output: [Range<Int>] = []
        output.reserveCapacity(pieces.count * 4)
        var matches: [Range<Int>] = []
        switch self {
        case .sequence(let steps):
            for step in steps { step.apply(&pieces, &text) }
            return
        case .byteLevel(let addPrefixSpace, let useRegex):
            for var piece in pieces {
                if addPrefixSpace && text.scalars[piece.lowerBound] != " " {
                    piece = text.appendCopy(of: piece, prefix: " ")
                }
                if useRegex {
                    RegexScanner.gpt2(text, piece, into: &output)
                } else {
                    output.append(piece)
                }
            }
        case .digits(let individual):
            for piece in pieces {
                matches.removeAll(keepingCapacity: true)
                var i = piece.lowerBound
                while i < piece.upperBound {
                    if text.classes[i] & CharClass.rustNumeric != 0 {
                        var end = i + 1
                        if !individual {
                            while end < piece.upperBound && text.classes[end] & CharClass.rustNumeric != 0 { end += 1 }
                        }
                        matches.append(i..<end)
                        i = end
                    } else {
                        i += 1
                    }
                }
                Self.splitByMatches(piece, matches, .isolated, invert: false, into: &output)
            }
        case .split(let pattern, let behavior, let invert):
            for piece in pieces {
                matches.removeAll(keepingCapacity: true)
                switch pattern {
                case .gpt2: RegexScanner.gpt2(text, piece, into: &matches)
                case .llama3: RegexScanner.llama3(text, piece, maxDigits: 3, into: &matches)
                case .qwen2: RegexScanner.llama3(text, piece, maxDigits: 1, into: &matches)
                case .literal(let needle): Self.findLiteral(needle, in: text, piece, into: &matches)
                }
                Self.splitByMatches(piece, matches, behavior, invert: invert, into: &output)
            }
        case .metaspace(let replacement, let scheme, let split):
            for var piece in pieces {
                for i in piece where text.scalars[i] == " " { text.replace(at: i, with: replacement) }
                let startsWithReplacement = text.scalars[piece.lowerBound] == replacement
                switch scheme {
                case .always where !startsWithReplacement:
                    piece = text.appendCopy(of: piece, prefix: replacement)
                case .first where !startsWithReplacement && text.starts[piece.lowerBound] == 0:
                    piece = text.appendCopy(of: piece, prefix: replacement)
                default:
                    break
                }
                if split {
                    matches.removeAll(keepingCapacity: true)
                    for i in piece where text.scalars[i] == replacement { matches.append(i..<(i + 1)) }
                    Self.splitByMatches(piece, matches, .mergedWithNext, invert: false, into: &output)
                } else {
                    output.append(piece)
                }
            }
        case .whitespaceSplit:
            for piece in pieces {
                var i = piece.lowerBound
                while i < piece.upperBound {
                    if text.classes[i] & CharClass.space != 0 { i += 1; continue }
                    var end = i + 1
                    while end < piece.upperBound && text.classes[end] & CharClass.space == 0 { end += 1 }
                    output.append(i..<end)
                    i = end
                }
            }
        }
        pieces = output
    }

    /// Non-overlapping occurrences of `needle`, left to right.
    static func findLiteral(_ needle: [Unicode.Scalar], in text: WorkText, _ range: Range<Int>,
                            into matches: inout [Range<Int>]) {
        guard !needle.isEmpty else { return }
        var i = range.lowerBound
        while i + needle.count <= range.upperBound {
            var hit = true
            for k in 0..<needle.count where text.scalars[i + k] != needle[k] { hit = false; break }
            if hit { matches.append(i..<(i + needle.count)); i += needle.count } else { i += 1 }
        }
    }

    /// tokenizers' NormalizedString::split: matches and the gaps between them tile the piece; `behavior` decides
    /// which become pieces. Empty pieces are dropped.
    static func splitByMatches(_ piece: Range<Int>, _ matches: [Range<Int>], _ behavior: SplitBehavior, invert: Bool,
                               into output: inout [Range<Int>]) {
        if behavior == .isolated && !invert {
            // Fast path: matches plus gaps, in order.
            var cursor = piece.lowerBound
            for m in matches {
                if m.lowerBound > cursor { output.append(cursor..<m.lowerBound) }
                if !m.isEmpty { output.append(m) }
                cursor = m.upperBound
            }
            if cursor < piece.upperBound { output.append(cursor..<piece.upperBound) }
            return
        }
        var tiles: [(Range<Int>, Bool)] = []
        var cursor = piece.lowerBound
        for m in matches {
            if m.lowerBound > cursor { tiles.append((cursor..<m.lowerBound, invert)) }
            tiles.append((m, !invert))
            cursor = m.upperBound
        }
        if cursor < piece.upperBound { tiles.append((cursor..<piece.upperBound, invert)) }
        var result: [Range<Int>] = []
        switch behavior {
        case .isolated:
            result = tiles.map { $0.0 }
        case .removed:
            result = tiles.filter { !$0.1 }.map { $0.0 }
        case .contiguous:
            var previous: Bool? = nil
            for (range, isMatch) in tiles {
                if isMatch == previous, let last = result.popLast() {
                    result.append(last.lowerBound..<range.upperBound)
                } else {
                    result.append(range)
                }
                previous = isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for (range, isMatch) in tiles {
                if isMatch && !previousMatch, let last = result.popLast() {
                    result.append(last.lowerBound..<range.upperBound)
                } else {
                    result.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (range, isMatch) in tiles.reversed() {
                if isMatch && !previousMatch, let last = result.popLast() {
                    result.append(range.lowerBound..<last.upperBound)
                } else {
                    result.append(range)
                }
                previousMatch = isMatch
            }
            result.reverse()
        }
        output.append(contentsOf: result.filter { !$0.isEmpty })
    }
}
