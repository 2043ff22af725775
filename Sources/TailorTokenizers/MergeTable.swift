// Open-addressing hash table from a token pair to its merge (rank and merged id). BPE spends most of its time in
// this lookup; Swift's Dictionary hashes UInt64 keys with SipHash, this uses one multiply (Fibonacci hashing) and
// linear probing at a load factor of at most 1/2.

struct MergeTable: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var id: Int32
    }

    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [Merge]
    private let shift: UInt64
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        var bits: UInt64 = 4
        while size < capacity * 2 { size <<= 1; bits += 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [Merge](repeating: Merge(rank: 0, id: 0), count: size)
        shift = 64 - bits
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right)) }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// Inserts or replaces (later merges of the same pair win, as in tokenizers).
    mutating func set(_ key: UInt64, _ merge: Merge) {
        let mask = keys.count - 1
        var index = slot(key)
        while keys[index] != Self.empty && keys[index] != key { index = (index + 1) & mask }
        if keys[index] == Self.empty { count += 1 }
        keys[index] = key
        values[index] = merge
    }

    @inline(__always)
    func get(_ left: Int32, _ right: Int32) -> Merge? {
        let key = Self.key(left, right)
        let mask = keys.count - 1
        var index = slot(key)
        while true {
            let stored = keys[index]
            if stored == key { return values[index] }
            if stored == Self.empty { return nil }
            index = (index + 1) & mask
        }
    }
}
