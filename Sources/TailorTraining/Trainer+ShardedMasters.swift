// ZeRO-1's split of full fine-tuning's f32 master weights: a rank keeps the masters of the tensors it steps and, of
// the tensors only bf16 products read (`LlamaWeights.isBF16ProductOperand`), the bf16 working copy alone; after each
// step the owners all-gather the updated tensors, and rank 0 gathers the masters for checkpoints and the final model.
import TailorDistributed
import TailorModels
import TailorTensor

extension Trainer {
    /// Per trainer slot: whether only bf16 products read its tensor (the decoder's linear weights and an untied head
    /// under bf16 products), so a rank that does not own it under ZeRO-1 can hold its bf16 copy alone. Under f32
    /// products none is: the products read the f32 weights, and every rank keeps every master.
    var productOnlySlots: [Bool] { slots.map { model.weights.isBF16ProductOperand($0.slot) } }

    /// Whether this rank holds some tensors as their working copy alone (ZeRO-1, several ranks, bf16 products).
    var dropsUnownedMasters: Bool { parallelism.shardsOptimizer && productOnlySlots.contains(true) }

    /// Replaces the f32 masters of the product-only tensors other ranks own by their bf16 working copies: after the
    /// f32 weights were loaded or restored. Nothing happens unless the optimizer is sharded.
    mutating func releaseUnownedMasters() {
        guard parallelism.shardsOptimizer else { return }
        let mine = partition.ranges[parallelism.rank], productOnly = productOnlySlots
        for i in slots.indices where productOnly[i] && !mine.contains(i) {
            let slot = slots[i].slot
            guard !model.weights.holdsWorkingCopyOnly(slot), let copy = model.weights.workingCopy(of: slot) else { continue }
            model.weights.holdWorkingCopyOnly(slot, copy)
        }
    }

    /// After each rank stepped its own tensors: every rank receives the others'. A product-only tensor travels as the
    /// bf16 rounding of its owner's master — the values one process's products read, so the result is exactly what
    /// one process holds — and every other tensor in f32. In rounds of at most `bucketBytes` in all: round k carries
    /// the k-th slice of every rank's run of bytes, written straight into the receiving tensors.
    mutating func allGatherParameters() throws {
        let partition = self.partition, rank = parallelism.rank, communicator = parallelism.communicator
        let counts = slotElementCounts, productOnly = productOnlySlots
        let wire = slots.indices.map { counts[$0] * (productOnly[$0] ? 2 : 4) }
        let runBytes = partition.totals(of: wire)
        let slice = max(1, Self.bucketBytes / parallelism.size)
        let rounds = ((runBytes.max() ?? 0) + slice - 1) / slice
        let mine = partition.ranges[rank]
        let owned = mine.map { model.weights[slots[$0].slot] ?? Tensor(zeros: [0]) }   // read while the others are moved out
        let others = slots.indices.filter { !mine.contains($0) }
        var position: [Int: Int] = [:]
        for (j, i) in others.enumerated() { position[i] = j }
        var sender = WireCursor(items: Array(mine), bytes: wire)
        var receivers = partition.ranges.map { WireCursor(items: Array($0), bytes: wire) }
        var sending: (item: Int, tensor: Tensor)? = nil   // the owned tensor being sent, in its wire dtype
        try model.weights.withParameters(others.map { slots[$0].slot }) { params in
            for (j, i) in others.enumerated() where params[j].dtype != (productOnly[i] ? .bf16 : .f32) {
                params[j] = params[j].converted(to: productOnly[i] ? .bf16 : .f32)
            }
            var staging: [UInt8] = []
            for k in 0..<rounds {
                let pieces = runBytes.map { min(slice, max(0, $0 - k * slice)) }
                staging.removeAll(keepingCapacity: true)
                sender.advance(by: pieces[rank]) { i, range in
                    let tensor: Tensor
                    if let current = sending, current.item == i {
                        tensor = current.tensor
                    } else {
                        tensor = owned[i - mine.lowerBound].converted(to: productOnly[i] ? .bf16 : .f32)
                        sending = (i, tensor)
                    }
                    tensor.withUnsafeRawBytes { staging.append(contentsOf: $0[range]) }
                }
                let all = try communicator.allGather(bytes: staging, counts: pieces)
                var offset = 0
                for r in receivers.indices {
                    defer { offset += pieces[r] }
                    guard r != rank else { continue }
                    var read = offset
                    receivers[r].advance(by: pieces[r]) { i, range in
                        defer { read += range.count }
                        guard let j = position[i] else { return }
                        params[j].withUnsafeMutableRawBytes { destination in
                            UnsafeMutableRawBufferPointer(rebasing: destination[range]).copyBytes(from: all[read..<read + range.count])
                        }
                    }
                }
            }
        }
    }

    /// The weights with every f32 master, on rank 0 (nil on the others), for a checkpoint or the final model in the
    /// single-process format; every rank must call it. Only the masters other ranks own are sent.
    func gatheredWeights() throws -> LlamaWeights? {
        guard dropsUnownedMasters else { return parallelism.isPrimary ? model.weights : nil }
        let partition = self.partition, counts = slotElementCounts, productOnly = productOnlySlots
        let mine = partition.ranges[parallelism.rank]
        let shard = Self.flatten(mine.filter { productOnly[$0] }.map { model.weights[slots[$0].slot] ?? Tensor(zeros: [0]) }[...])
        let sent = slots.indices.map { productOnly[$0] ? counts[$0] : 0 }
        let all = try parallelism.communicator.gather(shard, counts: partition.totals(of: sent), root: 0)
        guard parallelism.isPrimary else { return nil }
        // Rank by rank, each rank's tensors in slot order: slot order overall.
        var whole = model.weights, offset = 0
        for i in slots.indices where productOnly[i] {
            let shape = model.weights[slots[i].slot]?.shape ?? [0]
            whole[slots[i].slot] = Tensor(shape: shape, values: Array(all[offset..<offset + counts[i]]))
            offset += counts[i]
        }
        return whole
    }

    /// What each rank holds of the training state, in rank order; every rank must call it.
    public func trainingStateBytesPerRank() throws -> [TrainingStateBytes] {
        let productOnly = productOnlySlots
        var masters = 0, partitionedMasters = 0
        for (i, entry) in slots.enumerated() {
            guard let tensor = model.weights[entry.slot], tensor.dtype == .f32 else { continue }
            masters += tensor.byteCount
            if productOnly[i] { partitionedMasters += tensor.byteCount }
        }
        let moments = optimizer.stateTensors().reduce(0) { $0 + $1.tensor.byteCount }
        let copies = configuration.method == .full ? model.weights.workingCopyByteCount : 0
        // Each rank fills its own row; a sum of doubles is exact for byte counts below 2⁵³.
        let mine = [masters, moments, copies, moments + partitionedMasters].map(Double.init)
        var table = [Double](repeating: 0, count: mine.count * parallelism.size)
        table.replaceSubrange(mine.count * parallelism.rank ..< mine.count * (parallelism.rank + 1), with: mine)
        try parallelism.communicator.allReduce(&table, .sum)
        return (0..<parallelism.size).map { r in
            let row = table[mine.count * r ..< mine.count * (r + 1)].map { Int($0) }
            return TrainingStateBytes(masters: row[0], moments: row[1], workingCopies: row[2], partitioned: row[3])
        }
    }
}

/// What one rank holds of the training state, in bytes.
public struct TrainingStateBytes: Sendable, Equatable {
    /// f32 trainable tensors: full fine-tuning's masters, or the adapters.
    public var masters: Int
    /// AdamW's exp_avg and exp_avg_sq.
    public var moments: Int
    /// bf16 copies of trained weights that the products read (full fine-tuning with bf16 products).
    public var workingCopies: Int
    /// What ZeRO-1 splits: the moments, and the masters of the tensors only bf16 products read.
    public var partitioned: Int
}

/// A position in a run of tensors read or written as one stream of bytes, a slice at a time.
struct WireCursor {
    /// Slot indices of the run, in order.
    let items: [Int]
    /// Bytes of every slot on the wire.
    let bytes: [Int]
    private var index = 0, offset = 0

    init(items: [Int], bytes: [Int]) {
        self.items = items
        self.bytes = bytes
    }

    /// Calls `body(slot, byte range within it)` for the next `count` bytes of the stream, tensor by tensor.
    mutating func advance(by count: Int, _ body: (Int, Range<Int>) throws -> Void) rethrows {
        var left = count
        while left > 0, index < items.count {
            let item = items[index], n = min(left, bytes[item] - offset)
            if n > 0 { try body(item, offset..<offset + n) }
            offset += n
            left -= n
            if offset == bytes[item] {
                index += 1
                offset = 0
            }
        }
    }
}
