// Linear-time substring search and the size-checked string builders the filters and methods share.

/// Start offsets of the non-overlapping occurrences of `needle` in `haystack`, left to right (Knuth–Morris–Pratt, so
/// linear in both lengths whatever the input), at most `limit` of them. Both are UTF-8 bytes: for valid UTF-8 a byte
/// match is a code-point match, which is how Python compares strings.
func utf8Matches(of needle: [UInt8], in haystack: [UInt8], limit: Int = Int.max) -> [Int] {
    guard !needle.isEmpty, needle.count <= haystack.count, limit > 0 else { return [] }
    var failure = [Int](repeating: 0, count: needle.count)
    var k = 0
    for i in 1..<needle.count {
        while k > 0 && needle[i] != needle[k] { k = failure[k - 1] }
        if needle[i] == needle[k] { k += 1 }
        failure[i] = k
    }
    var matches: [Int] = []
    var q = 0
    for (i, byte) in haystack.enumerated() {
        while q > 0 && byte != needle[q] { q = failure[q - 1] }
        if byte == needle[q] { q += 1 }
        if q == needle.count {
            matches.append(i + 1 - q)
            if matches.count == limit { break }
            q = 0 // non-overlapping, as str.split/replace/count
        }
    }
    return matches
}

/// Python `str.split(sep, maxsplit)` for a non-empty separator, in linear time.
func pythonSplit(_ s: String, separator sep: String, maxsplit: Int) -> [String] {
    let bytes = Array(s.utf8), needle = Array(sep.utf8)
    let starts = utf8Matches(of: needle, in: bytes, limit: maxsplit < 0 ? Int.max : maxsplit)
    return pieces(of: bytes, between: starts, separatorLength: needle.count)
}

/// The text around separators of `separatorLength` bytes starting at `starts` (ascending).
private func pieces(of bytes: [UInt8], between starts: some Sequence<Int>, separatorLength: Int) -> [String] {
    var parts: [String] = []
    var from = 0
    for start in starts {
        parts.append(String(decoding: bytes[from..<start], as: UTF8.self))
        from = start + separatorLength
    }
    parts.append(String(decoding: bytes[from...], as: UTF8.self))
    return parts
}

/// Python `str.rsplit(sep, maxsplit)` for a non-empty separator: matches are taken from the right (searching the
/// reversed text for the reversed separator), in linear time.
func pythonRSplit(_ s: String, separator sep: String, maxsplit: Int) -> [String] {
    let bytes = Array(s.utf8), needle = Array(sep.utf8)
    let n = bytes.count
    let reversedStarts = utf8Matches(of: needle.reversed(), in: bytes.reversed(), limit: maxsplit < 0 ? Int.max : maxsplit)
    // A match at reversed offset r covers original bytes n - r - needle.count ..< n - r.
    return pieces(of: bytes, between: reversedStarts.map { n - $0 - needle.count }.reversed(), separatorLength: needle.count)
}

extension Interpreter {
    /// `items` printed and joined with `separator`, after checking the result's size.
    func joined(_ items: [Value], separator: String) throws -> String {
        let strings = items.map(\.str)
        var total = separator.utf8.count.multipliedReportingOverflow(by: max(0, strings.count - 1))
        for s in strings where !total.overflow { total = total.partialValue.addingReportingOverflow(s.utf8.count) }
        try chargeString(total.overflow ? Int.max : total.partialValue, "joined string")
        return strings.joined(separator: separator)
    }

    /// Python `str.replace`, with the result's size checked before it is built.
    func boundedReplace(_ s: String, _ old: String, _ new: String, count: Int) throws -> String {
        let occurrences: Int
        if old.isEmpty {
            occurrences = s.unicodeScalars.count + 1
        } else {
            occurrences = utf8Matches(of: Array(old.utf8), in: Array(s.utf8), limit: count < 0 ? Int.max : count).count
        }
        let replaced = count < 0 ? occurrences : min(count, occurrences)
        let growth = (new.utf8.count - (old.isEmpty ? 0 : old.utf8.count)).multipliedReportingOverflow(by: replaced)
        let total = growth.partialValue.addingReportingOverflow(s.utf8.count)
        try chargeString(growth.overflow || total.overflow ? Int.max : total.partialValue)
        return pythonReplace(s, old, new, count: count)
    }
}
