// Normalizers of tokenizer.json (NFC, Prepend, Replace, Strip, Sequence), applied to a range of WorkText.
import Foundation

indirect enum Normalizer: Sendable {
    case nfc
    case prepend([Unicode.Scalar])
    case replace(pattern: [Unicode.Scalar], content: [Unicode.Scalar])
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])

    /// Normalizes `range` and returns the range holding the result (the same range when nothing changed).
    func apply(_ range: Range<Int>, _ text: inout WorkText) -> Range<Int> {
        switch self {
        case .sequence(let steps):
            var current = range
            for step in steps { current = step.apply(current, &text) }
            return current
        case .prepend(let prefix):
            // tokenizers prepends only to non-empty text.
            return range.isEmpty ? range : text.appendCopy(of: range, prefix: prefix)
        case .replace(let pattern, let content):
            return Self.replace(range, pattern, content, &text)
        case .strip(let left, let right):
            var lower = range.lowerBound, upper = range.upperBound
            if left { while lower < upper && text.classes[lower] & CharClass.space != 0 { lower += 1 } }
            if right { while upper > lower && text.classes[upper - 1] & CharClass.space != 0 { upper -= 1 } }
            return lower..<upper
        case .nfc:
            return Self.nfc(range, &text)
        }
    }

    private static func replace(_ range: Range<Int>, _ pattern: [Unicode.Scalar], _ content: [Unicode.Scalar],
                                _ text: inout WorkText) -> Range<Int> {
        guard !pattern.isEmpty else { return range }
        var matches: [Range<Int>] = []
        PreTokenizer.findLiteral(pattern, in: text, range, into: &matches)
        if matches.isEmpty { return range }
        if pattern.count == 1 && content.count == 1 {
            for m in matches { text.replace(at: m.lowerBound, with: content[0]) }
            return range
        }
        let lower = text.scalars.count
        var cursor = range.lowerBound
        for m in matches {
            for i in cursor..<m.lowerBound {
                text.append(text.scalars[i], start: text.starts[i], end: text.ends[i])
            }
            let span = text.originalRange(m)
            for scalar in content { text.append(scalar, start: span.lowerBound, end: span.upperBound) }
            cursor = m.upperBound
        }
        for i in cursor..<range.upperBound { text.append(text.scalars[i], start: text.starts[i], end: text.ends[i]) }
        return lower..<text.scalars.count
    }

    /// NFC. The text is normalized as a whole; for offsets it is also normalized cluster by cluster, where a
    /// cluster starts at each scalar that cannot combine with what precedes it (combining class 0 and not one of
    /// the few starters that compose backwards, such as Hangul vowels). Inside a changed cluster the k-th output
    /// scalar takes the k-th input scalar's range, as tokenizers' aligned normalization does for compositions
    /// (é from e + U+0301 keeps the range of the e). Should the clusters ever disagree with the whole, the whole is
    /// used with that positional alignment across the segment, so ids never depend on the cluster rule.
    private static func nfc(_ range: Range<Int>, _ text: inout WorkText) -> Range<Int> {
        guard text.scalars[range].contains(where: { $0.value >= 0x300 }) else { return range }
        let whole = text.string(range)
        let normalized = whole.precomposedStringWithCanonicalMapping
        if normalized.unicodeScalars.elementsEqual(whole.unicodeScalars) { return range }
        var pieces: [(cluster: Range<Int>, output: [Unicode.Scalar])] = []
        var clusterStart = range.lowerBound
        var i = range.lowerBound + 1
        while clusterStart < range.upperBound {
            while i < range.upperBound && !isStableBoundary(text.scalars[i]) { i += 1 }
            let cluster = clusterStart..<i
            let original = text.string(cluster)
            pieces.append((cluster, Array(original.precomposedStringWithCanonicalMapping.unicodeScalars)))
            clusterStart = i
            i += 1
        }
        let lower = text.scalars.count
        if pieces.lazy.flatMap({ $0.output }).elementsEqual(normalized.unicodeScalars) {
            for (cluster, output) in pieces { appendAligned(output, to: cluster, &text) }
        } else {
            appendAligned(Array(normalized.unicodeScalars), to: range, &text)
        }
        return lower..<text.scalars.count
    }

    private static func appendAligned(_ output: [Unicode.Scalar], to source: Range<Int>, _ text: inout WorkText) {
        for (k, scalar) in output.enumerated() {
            let index = source.lowerBound + min(k, source.count - 1)
            text.append(scalar, start: text.starts[index], end: text.ends[index])
        }
    }

    /// Starters (combining class 0) that can be the second half of a canonical composition (NFC_QC=Maybe).
    private static let composingStarters: [ClosedRange<UInt32>] = [
        0x09BE...0x09BE, 0x09D7...0x09D7, 0x0B3E...0x0B3E, 0x0B57...0x0B57, 0x0BBE...0x0BBE, 0x0BD7...0x0BD7,
        0x0CC2...0x0CC2, 0x0CD5...0x0CD6, 0x0D3E...0x0D3E, 0x0D57...0x0D57, 0x0DCF...0x0DCF, 0x0DDF...0x0DDF,
        0x102E...0x102E, 0x1161...0x1175, 0x11A8...0x11C2, 0x1B35...0x1B35, 0x11127...0x11127, 0x1133E...0x1133E,
        0x11357...0x11357, 0x113B8...0x113C9, 0x114B0...0x114BD, 0x115AF...0x115AF, 0x11930...0x11930,
        0x1611E...0x16129, 0x16D67...0x16D68,
    ]

    private static func isStableBoundary(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x300 { return true }
        guard scalar.properties.canonicalCombiningClass == .notReordered else { return false }
        return !composingStarters.contains { $0.contains(scalar.value) }
    }
}
