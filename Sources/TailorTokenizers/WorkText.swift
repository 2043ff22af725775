// The text being encoded: Unicode scalars with their original UTF-8 byte ranges (for offsets) and classes.
// Normalizers and pre-tokenizers that change text append a new version at the end and hand back its range,
// so every stage works on ranges of one growing buffer.

struct WorkText {
    var scalars: [Unicode.Scalar] = []
    /// Original UTF-8 start/end byte of each scalar; inserted scalars get an empty range.
    var starts: [Int] = []
    var ends: [Int] = []
    var classes: [UInt8] = []

    init(_ text: String) {
        let capacity = text.utf8.count
        scalars.reserveCapacity(capacity)
        starts.reserveCapacity(capacity)
        ends.reserveCapacity(capacity)
        classes.reserveCapacity(capacity)
        var offset = 0
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            append(scalar, start: offset, end: offset + width)
            offset += width
        }
    }

    @inline(__always)
    mutating func append(_ scalar: Unicode.Scalar, start: Int, end: Int) {
        scalars.append(scalar)
        starts.append(start)
        ends.append(end)
        classes.append(CharClass.of(scalar))
    }

    /// Copies `range` to the end, preceded by `prefix`. Like tokenizers' NormalizedString::prepend, the prefix is
    /// aligned to the original range of the first scalar.
    mutating func appendCopy(of range: Range<Int>, prefix: Unicode.Scalar) -> Range<Int> {
        appendCopy(of: range, prefix: [prefix])
    }

    mutating func appendCopy(of range: Range<Int>, prefix: [Unicode.Scalar]) -> Range<Int> {
        let lower = scalars.count
        let anchor = range.isEmpty ? (lower > 0 ? ends[lower - 1] : 0) : starts[range.lowerBound]
        let anchorEnd = range.isEmpty ? anchor : ends[range.lowerBound]
        for scalar in prefix { append(scalar, start: anchor, end: anchorEnd) }
        for index in range {
            scalars.append(scalars[index])
            starts.append(starts[index])
            ends.append(ends[index])
            classes.append(classes[index])
        }
        return lower..<scalars.count
    }

    @inline(__always)
    mutating func replace(at index: Int, with scalar: Unicode.Scalar) {
        scalars[index] = scalar
        classes[index] = CharClass.of(scalar)
    }

    func string(_ range: Range<Int>) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[range])
        return String(result)
    }

    /// Original UTF-8 byte range covered by scalars `range`.
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        var lower = starts[range.lowerBound]
        var upper = ends[range.upperBound - 1]
        for index in range {
            lower = min(lower, starts[index])
            upper = max(upper, ends[index])
        }
        return lower..<upper
    }
}

/// Appends the UTF-8 encoding of `scalar`; returns the number of bytes written.
@inline(__always) @discardableResult
func appendUTF8(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) -> Int {
    let v = scalar.value
    switch v {
    case 0..<0x80:
        bytes.append(UInt8(v))
        return 1
    case 0x80..<0x800:
        bytes.append(UInt8(0xC0 | (v >> 6)))
        bytes.append(UInt8(0x80 | (v & 0x3F)))
        return 2
    case 0x800..<0x10000:
        bytes.append(UInt8(0xE0 | (v >> 12)))
        bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        bytes.append(UInt8(0x80 | (v & 0x3F)))
        return 3
    default:
        bytes.append(UInt8(0xF0 | (v >> 18)))
        bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        bytes.append(UInt8(0x80 | (v & 0x3F)))
        return 4
    }
}
