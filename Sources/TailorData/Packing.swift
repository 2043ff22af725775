// Truncation and packing: fitting encoded samples into max_length rows.
import TailorTensor

public enum Packing {
    /// Keeps the first `maxLength` tokens (TRL's default truncation, "keep_start").
    public static func truncate(_ row: PreparedRow, to maxLength: Int) -> (row: PreparedRow, truncated: Bool) {
        guard row.count > maxLength else { return (row, false) }
        return (PreparedRow(inputIDs: Array(row.inputIDs.prefix(maxLength)), labels: Array(row.labels.prefix(maxLength)),
                            segments: row.segments.map { Array($0.prefix(maxLength)) },
                            positions: row.positions.map { Array($0.prefix(maxLength)) }), true)
    }

    /// Best-fit-decreasing packing (TRL's default "bfd" strategy): samples sorted by length, longest first (ties
    /// in input order), each placed in the open row with the least room that still fits it, else a new row.
    /// Samples must already be at most `maxLength` long. Returns the packed rows with segment and position ids;
    /// row order is the order rows were opened, samples within a row in placement order.
    public static func pack(_ rows: [PreparedRow], maxLength: Int) -> [PreparedRow] {
        precondition(maxLength > 0)
        let order = rows.indices.sorted { rows[$0].count != rows[$1].count ? rows[$0].count > rows[$1].count : $0 < $1 }
        var bins: [[Int]] = []
        var room: [Int] = []
        for i in order where rows[i].count > 0 {
            let n = rows[i].count
            var best = -1
            for b in bins.indices where room[b] >= n && (best < 0 || room[b] < room[best]) { best = b }
            if best < 0 { bins.append([i]); room.append(maxLength - n) } else { bins[best].append(i); room[best] -= n }
        }
        return bins.map { members in
            var ids: [Int32] = [], labels: [Int32] = [], segments: [Int32] = [], positions: [Int32] = []
            for (s, i) in members.enumerated() {
                let r = rows[i]
                ids += r.inputIDs
                var l = r.labels
                l[0] = PreparedRow.ignoreIndex
                labels += l
                segments += [Int32](repeating: Int32(s), count: r.count)
                positions += (0..<r.count).map { Int32($0) }
            }
            return PreparedRow(inputIDs: ids, labels: labels, segments: segments, positions: positions)
        }
    }
}

/// Length-grouped sampling order, as transformers' `get_length_grouped_indices` (Trainer `group_by_length`).
public enum LengthGrouping {
    /// The grouped order for `lengths` given the random permutation the sampler would draw (torch's `randperm`
    /// is not reproduced, so it is passed in). Mega-batches of `megaBatchMultiplier · batchSize` consecutive
    /// permutation entries are each sorted by length, longest first (stable, as Python's `sorted(reverse=True)`);
    /// then the first entry of the mega-batch holding the overall longest sample (first such mega-batch) is
    /// swapped with the first entry of mega-batch 0. Default multiplier: `min(n / (4·batchSize), 50)`, at least 1.
    public static func indices(lengths: [Int], batchSize: Int, permutation: [Int], megaBatchMultiplier: Int? = nil) -> [Int] {
        precondition(batchSize > 0 && permutation.count == lengths.count)
        guard !lengths.isEmpty else { return [] }
        let mult = megaBatchMultiplier ?? max(1, min(lengths.count / (batchSize * 4), 50))
        let size = mult * batchSize
        var megaBatches: [[Int]] = stride(from: 0, to: permutation.count, by: size).map { start in
            let chunk = Array(permutation[start..<min(start + size, permutation.count)])
            // Stable descending sort: Python's sorted(reverse=True) keeps equal keys in their original order.
            return chunk.enumerated().sorted { a, b in
                lengths[a.element] != lengths[b.element] ? lengths[a.element] > lengths[b.element] : a.offset < b.offset
            }.map(\.element)
        }
        var maxIndex = 0
        for (k, batch) in megaBatches.enumerated() where lengths[batch[0]] > lengths[megaBatches[maxIndex][0]] { maxIndex = k }
        let first = megaBatches[0][0]
        megaBatches[0][0] = megaBatches[maxIndex][0]
        megaBatches[maxIndex][0] = first
        return megaBatches.flatMap { $0 }
    }

    /// The grouped order with a permutation drawn from `SplitMix64(seed:)` (deterministic, not torch's).
    public static func indices(lengths: [Int], batchSize: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return indices(lengths: lengths, batchSize: batchSize, permutation: rng.permutation(lengths.count))
    }
}

/// Seeded train/validation split.
public enum DataSplit {
    /// Indices of the validation and training samples. The validation size is `ceil(fraction · count)` (as
    /// `datasets.train_test_split` and scikit-learn round a fractional test size), capped so that at least one
    /// sample trains; 0 when `fraction` is 0. Membership comes from a SplitMix64 permutation; each part keeps the
    /// input order.
    public static func split(count: Int, fraction: Double, seed: UInt64) throws -> (train: [Int], validation: [Int]) {
        guard fraction >= 0 && fraction < 1 else {
            throw DataError.invalidOption("validation split \(fraction) must be in [0, 1)")
        }
        var n = Int((Double(count) * fraction).rounded(.up))
        n = min(n, max(0, count - 1))
        if fraction == 0 { n = 0 }
        var rng = SplitMix64(seed: seed)
        let validation = Array(rng.permutation(count).prefix(n)).sorted()
        let set = Set(validation)
        return ((0..<count).filter { !set.contains($0) }, validation)
    }
}
