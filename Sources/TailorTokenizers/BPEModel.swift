// The BPE model of tokenizer.json: vocabulary, ranked merges, byte fallback and unknown-token handling.
// A word starts as one symbol per character; the adjacent pair with the lowest merge rank (leftmost on ties)
// is merged until none is left, in exactly the order of tokenizers' Word::merge_all.

/// One model token of a word: its id and the range of word units (bytes or scalars) it covers.
struct WordToken {
    var id: Int
    var units: Range<Int>
}

struct BPEModel: Sendable {
    let vocab: [TokenKey: Int]
    let idToToken: [Int: String]
    /// (left id, right id) → rank and merged id.
    let merges: MergeTable
    let unknownID: Int?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    let continuingSubwordPrefix: String
    let endOfWordSuffix: String
    /// Id of the byte-level character for each byte (-1 when missing); used when the pre-tokenizer is ByteLevel.
    let byteLevelIDs: [Int32]
    /// Id of `<0xNN>` for each byte (-1 when missing).
    let byteFallbackIDs: [Int32]
    /// Id of each single-scalar piece of the Basic Multilingual Plane (-1 when not in the vocabulary).
    let scalarIDs: [Int32]

    init(vocab: [TokenKey: Int], merges: [(String, String)], unknownToken: String?, fuseUnknown: Bool,
         byteFallback: Bool, ignoreMerges: Bool, continuingSubwordPrefix: String?, endOfWordSuffix: String?,
         file: String) throws {
        self.vocab = vocab
        var reverse: [Int: String] = [:]
        reverse.reserveCapacity(vocab.count)
        for (token, id) in vocab { reverse[id] = token.text }
        idToToken = reverse
        var table = MergeTable(capacity: merges.count)
        let prefix = continuingSubwordPrefix ?? ""
        for (rank, (left, right)) in merges.enumerated() {
            let description = "\(left) \(right)"
            guard let a = vocab[TokenKey(left)] else {
                throw TokenizerError.mergeReferencesUnknownToken(file: file, index: rank, merge: description, token: left)
            }
            guard let b = vocab[TokenKey(right)] else {
                throw TokenizerError.mergeReferencesUnknownToken(file: file, index: rank, merge: description, token: right)
            }
            // With a continuing-subword prefix the merged token drops the right part's prefix.
            let rightPart = !prefix.isEmpty && right.hasPrefix(prefix) ? String(right.dropFirst(prefix.count)) : right
            let merged = left + rightPart
            guard let id = vocab[TokenKey(merged)] else {
                throw TokenizerError.mergeReferencesUnknownToken(file: file, index: rank, merge: description, token: merged)
            }
            table.set(MergeTable.key(Int32(a), Int32(b)), MergeTable.Merge(rank: Int32(rank), id: Int32(id)))
        }
        self.merges = table
        unknownID = unknownToken.flatMap { vocab[TokenKey($0)] }
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.continuingSubwordPrefix = prefix
        self.endOfWordSuffix = endOfWordSuffix ?? ""
        byteLevelIDs = (0..<256).map { Int32(vocab[TokenKey(String(ByteLevel.byteToScalar[$0]))] ?? -1) }
        byteFallbackIDs = (0..<256).map { Int32(vocab[TokenKey(ByteLevel.fallbackToken($0))] ?? -1) }
        var scalars = [Int32](repeating: -1, count: 0x10000)
        for (token, id) in vocab {
            var iterator = token.text.unicodeScalars.makeIterator()
            if let first = iterator.next(), iterator.next() == nil, first.value < 0x10000 { scalars[Int(first.value)] = Int32(id) }
        }
        scalarIDs = scalars
    }

    private var hasAffixes: Bool { !continuingSubwordPrefix.isEmpty || !endOfWordSuffix.isEmpty }

    /// Tokenizes the UTF-8 bytes of a byte-level word (units = bytes).
    func tokenize(byteLevelWord bytes: ArraySlice<UInt8>, into output: inout [WordToken], scratch: inout MergeScratch) {
        if bytes.isEmpty { return }
        if ignoreMerges {
            var mapped = String.UnicodeScalarView()
            for byte in bytes { mapped.append(ByteLevel.byteToScalar[Int(byte)]) }
            if let id = vocab[TokenKey(String(mapped))] {
                output.append(WordToken(id: id, units: 0..<bytes.count))
                return
            }
        }
        var allKnown = !hasAffixes
        if allKnown { for byte in bytes where byteLevelIDs[Int(byte)] < 0 { allKnown = false; break } }
        guard allKnown else {
            tokenize(characters: bytes.map { ByteLevel.byteToScalar[Int($0)] }, into: &output, scratch: &scratch,
                     skipWholeWordCheck: true)
            return
        }
        scratch.reset()
        for (offset, byte) in bytes.enumerated() {
            scratch.add(id: byteLevelIDs[Int(byte)], units: offset..<(offset + 1))
        }
        mergeAll(&scratch)
        scratch.emit(into: &output)
    }

    /// Tokenizes a word given as characters (units = characters), with unknown and byte-fallback handling.
    func tokenize(characters: [Unicode.Scalar], into output: inout [WordToken], scratch: inout MergeScratch,
                  skipWholeWordCheck: Bool = false) {
        if characters.isEmpty { return }
        if ignoreMerges && !skipWholeWordCheck {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: characters)
            if let id = vocab[TokenKey(String(view))] {
                output.append(WordToken(id: id, units: 0..<characters.count))
                return
            }
        }
        scratch.reset()
        var pendingUnknown: (id: Int, units: Range<Int>)? = nil
        for (index, scalar) in characters.enumerated() {
            let units = index..<(index + 1)
            // Fast path: a single-scalar piece found by table (no prefix/suffix to add).
            if !hasAffixes && scalar.value < 0x10000 && scalarIDs[Int(scalar.value)] >= 0 {
                if let unknown = pendingUnknown {
                    scratch.add(id: Int32(unknown.id), units: unknown.units)
                    pendingUnknown = nil
                }
                scratch.add(id: scalarIDs[Int(scalar.value)], units: units)
                continue
            }
            var piece = String(scalar)
            if index > 0 && !continuingSubwordPrefix.isEmpty { piece = continuingSubwordPrefix + piece }
            if index == characters.count - 1 && !endOfWordSuffix.isEmpty { piece += endOfWordSuffix }
            if let id = vocab[TokenKey(piece)] {
                if let unknown = pendingUnknown {
                    scratch.add(id: Int32(unknown.id), units: unknown.units)
                    pendingUnknown = nil
                }
                scratch.add(id: Int32(id), units: units)
                continue
            }
            if byteFallback {
                let ids = piece.utf8.map { byteFallbackIDs[Int($0)] }
                if !ids.contains(where: { $0 < 0 }) {
                    for id in ids { scratch.add(id: id, units: units) }
                    continue
                }
            }
            guard let unknownID else { continue }
            if let unknown = pendingUnknown {
                if fuseUnknown {
                    pendingUnknown = (unknown.id, unknown.units.lowerBound..<units.upperBound)
                } else {
                    scratch.add(id: Int32(unknown.id), units: unknown.units)
                    pendingUnknown = (unknownID, units)
                }
            } else {
                pendingUnknown = (unknownID, units)
            }
        }
        if let unknown = pendingUnknown { scratch.add(id: Int32(unknown.id), units: unknown.units) }
        mergeAll(&scratch)
        scratch.emit(into: &output)
    }

    /// tokenizers' Word::merge_all: merge the adjacent pair with the lowest (rank, position) until none is left.
    /// tokenizers keeps a priority queue and skips entries whose pair has changed; a changed pair can never yield
    /// the same merged token (a symbol only grows by merging with its right neighbour), so that equals rescanning
    /// the current pairs, which is faster for the short words that dominate text.
    private func mergeAll(_ word: inout MergeScratch) {
        let count = word.ids.count
        guard count > 1 else { return }
        if count > 32 { return mergeAllQueued(&word) }
        word.ranks.removeAll(keepingCapacity: true)
        word.mergedIDs.removeAll(keepingCapacity: true)
        for i in 0..<(count - 1) {
            let merge = merges.get(word.ids[i], word.ids[i + 1])
            word.ranks.append(merge?.rank ?? Int32.max)
            word.mergedIDs.append(merge?.id ?? -1)
        }
        while true {
            var best = -1
            var bestRank = Int32.max
            for i in 0..<word.ranks.count where word.ranks[i] < bestRank {
                bestRank = word.ranks[i]
                best = i
            }
            if best < 0 { break }
            word.ids[best] = word.mergedIDs[best]
            word.upper[best] = word.upper[best + 1]
            word.ids.remove(at: best + 1)
            word.lower.remove(at: best + 1)
            word.upper.remove(at: best + 1)
            word.ranks.remove(at: best)
            word.mergedIDs.remove(at: best)
            if best > 0 {
                let merge = merges.get(word.ids[best - 1], word.ids[best])
                word.ranks[best - 1] = merge?.rank ?? Int32.max
                word.mergedIDs[best - 1] = merge?.id ?? -1
            }
            if best < word.ranks.count {
                let merge = merges.get(word.ids[best], word.ids[best + 1])
                word.ranks[best] = merge?.rank ?? Int32.max
                word.mergedIDs[best] = merge?.id ?? -1
            }
        }
    }

    /// The priority-queue form of merge_all for long words (linked symbols, stale entries skipped).
    private func mergeAllQueued(_ word: inout MergeScratch) {
        let count = word.ids.count
        word.heap.removeAll(keepingCapacity: true)
        word.previous = (0..<count).map { Int32($0) - 1 }
        word.next = (0..<count).map { $0 + 1 < count ? Int32($0 + 1) : -1 }
        word.alive = [Bool](repeating: true, count: count)
        for i in 0..<(count - 1) {
            if let merge = merges.get(word.ids[i], word.ids[i + 1]) {
                word.push(rank: merge.rank, position: Int32(i), id: merge.id)
            }
        }
        while let top = word.pop() {
            let position = Int(top.position)
            guard word.alive[position], word.next[position] >= 0 else { continue }
            let nextPosition = Int(word.next[position])
            guard let merge = merges.get(word.ids[position], word.ids[nextPosition]), merge.id == top.id else {
                continue
            }
            // Merge the right symbol into the left one.
            word.ids[position] = top.id
            word.upper[position] = word.upper[nextPosition]
            word.alive[nextPosition] = false
            let after = word.next[nextPosition]
            word.next[position] = after
            if after >= 0 { word.previous[Int(after)] = Int32(position) }
            let before = word.previous[position]
            if before >= 0, let m = merges.get(word.ids[Int(before)], top.id) {
                word.push(rank: m.rank, position: before, id: m.id)
            }
            if after >= 0, let m = merges.get(top.id, word.ids[Int(after)]) {
                word.push(rank: m.rank, position: Int32(position), id: m.id)
            }
        }
        // Compact to the surviving symbols, in order.
        var ids: [Int32] = [], lower: [Int] = [], upper: [Int] = []
        for i in 0..<count where word.alive[i] {
            ids.append(word.ids[i])
            lower.append(word.lower[i])
            upper.append(word.upper[i])
        }
        word.ids = ids
        word.lower = lower
        word.upper = upper
    }
}

/// Reusable buffers for merging one word: the symbols (id and unit range), pair ranks for the rescanning merge,
/// and a linked list plus queue for the long-word path.
struct MergeScratch {
    /// A queued merge; `order` packs (rank, position) so one comparison orders by rank, then position.
    struct Entry {
        var order: UInt64
        var id: Int32
        var position: Int32 { Int32(truncatingIfNeeded: order & 0xFFFF_FFFF) }
        @inline(__always) func precedes(_ other: Entry) -> Bool { order < other.order }
    }

    var ids: [Int32] = []
    var lower: [Int] = []
    var upper: [Int] = []
    var ranks: [Int32] = []
    var mergedIDs: [Int32] = []
    var previous: [Int32] = []
    var next: [Int32] = []
    var alive: [Bool] = []
    var heap: [Entry] = []

    mutating func reset() {
        ids.removeAll(keepingCapacity: true)
        lower.removeAll(keepingCapacity: true)
        upper.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    mutating func add(id: Int32, units: Range<Int>) {
        ids.append(id)
        lower.append(units.lowerBound)
        upper.append(units.upperBound)
    }

    func emit(into output: inout [WordToken]) {
        for i in 0..<ids.count {
            output.append(WordToken(id: Int(ids[i]), units: lower[i]..<upper[i]))
        }
    }

    mutating func push(rank: Int32, position: Int32, id: Int32) {
        heap.append(Entry(order: UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: position)), id: id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count && heap[left].precedes(heap[best]) { best = left }
            if right < heap.count && heap[right].precedes(heap[best]) { best = right }
            if best == parent { break }
            heap.swapAt(parent, best)
            parent = best
        }
        return top
    }
}
