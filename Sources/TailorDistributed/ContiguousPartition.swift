// Splitting an ordered list of tensors into one contiguous run per rank, balanced by element count: ZeRO-1 gives
// each rank whole tensors, so per-tensor work (gradient norms, AdamW) stays exactly as in one process.

/// Rank `r` owns items `ranges[r]` of the list (possibly none).
public struct ContiguousPartition: Sendable, Equatable {
    /// Item indices per rank, in rank order, covering `0..<sizes.count` without gaps.
    public let ranges: [Range<Int>]
    /// Elements per rank (the sum of its items' sizes).
    public let elementCounts: [Int]

    /// Cuts `sizes` into `parts` contiguous runs whose totals are as close as whole items allow to `total / parts`:
    /// each cut sits where the running total is nearest its ideal position.
    public init(sizes: [Int], parts: Int) {
        precondition(parts >= 1 && sizes.allSatisfy { $0 >= 0 }, "ContiguousPartition: \(parts) parts, sizes \(sizes)")
        let total = Double(sizes.reduce(0, +))
        var ranges: [Range<Int>] = [], counts: [Int] = []
        var start = 0, running = 0
        for r in 0..<parts {
            var end = start, sum = running
            if r == parts - 1 {
                end = sizes.count
                sum = running + sizes[start...].reduce(0, +)
            } else {
                let target = total * Double(r + 1) / Double(parts)
                while end < sizes.count, abs(Double(sum + sizes[end]) - target) <= abs(Double(sum) - target) {
                    sum += sizes[end]
                    end += 1
                }
            }
            ranges.append(start..<end)
            counts.append(sum - running)
            start = end
            running = sum
        }
        self.ranges = ranges
        elementCounts = counts
    }

    /// Items per rank.
    public var itemCounts: [Int] { ranges.map(\.count) }

    /// The sum of `values` (one per item) over each rank's items: the ranks' element counts when the cut was balanced
    /// on other sizes (bytes, say).
    public func totals(of values: [Int]) -> [Int] {
        ranges.map { range in range.reduce(0) { $0 + (range.upperBound <= values.count ? values[$1] : 0) } }
    }
}
