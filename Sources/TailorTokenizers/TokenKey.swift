// Dictionary key for vocabulary pieces that compares strings byte for byte. Swift's String equality and hashing
// follow canonical equivalence, which would merge distinct tokens such as "é" (U+00E9) and "e" + U+0301.

struct TokenKey: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (lhs: TokenKey, rhs: TokenKey) -> Bool {
        lhs.text.utf8.count == rhs.text.utf8.count && lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}
