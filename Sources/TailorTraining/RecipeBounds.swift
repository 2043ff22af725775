// Bounds a YAML recipe must meet before a YAML parser sees it: the parser recurses once per nesting level and
// expands every alias, so a 5,000-deep document overflows the stack and an alias bomb takes gigabytes.

public enum RecipeBounds {
    public static let maxBytes = 1 << 20
    /// Flow brackets open at once, or leading spaces (each block level indents at least one more).
    public static let maxDepth = 64
    /// Aliases (`*name`) in the whole recipe; a recipe of scalars needs none.
    public static let maxAliases = 32

    /// Throws `TrainingError.malformedData` naming the file and line of the first bound exceeded.
    public static func check(_ text: String, file: String) throws {
        func fail(_ line: Int, _ message: String) -> TrainingError { .malformedData(file: file, line: line, message: message) }
        guard text.utf8.count <= maxBytes else { throw fail(0, "a recipe is at most \(maxBytes) bytes, this one has \(text.utf8.count)") }
        var flowDepth = 0, aliases = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let bytes = Array(line.utf8)
            var indent = 0
            // Leading spaces and block sequence dashes ("- - - x" nests without indenting) both open levels.
            while indent < bytes.count, bytes[indent] == UInt8(ascii: " ") || bytes[indent] == UInt8(ascii: "-") { indent += 1 }
            if indent > maxDepth { throw fail(index + 1, "nested more than \(maxDepth) levels deep") }
            var quote: UInt8? = nil
            var previous = UInt8(ascii: " ")
            for byte in bytes {
                if let q = quote {
                    if byte == q { quote = nil }
                    previous = byte
                    continue
                }
                switch byte {
                case UInt8(ascii: "#") where previous == UInt8(ascii: " "): break
                case UInt8(ascii: "\"") where " [{,:".utf8.contains(previous),
                     UInt8(ascii: "'") where " [{,:".utf8.contains(previous):
                    quote = byte
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    flowDepth += 1
                    if flowDepth > maxDepth { throw fail(index + 1, "nested more than \(maxDepth) levels deep") }
                case UInt8(ascii: "]"), UInt8(ascii: "}"): flowDepth = max(0, flowDepth - 1)
                // An alias starts a node: after a space, a flow bracket or comma, or at the start of the line.
                case UInt8(ascii: "*") where " [{,:-".utf8.contains(previous):
                    aliases += 1
                    if aliases > maxAliases { throw fail(index + 1, "more than \(maxAliases) aliases (*name)") }
                default: break
                }
                if byte == UInt8(ascii: "#") && previous == UInt8(ascii: " ") { break }
                previous = byte
            }
        }
    }
}
