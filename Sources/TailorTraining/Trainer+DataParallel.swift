// The parts of a training step that differ when several ranks train together: the step's token counts, the
// gradient reduction and clipping, the (sharded) optimizer step, and gathering state for checkpoints. With one rank
// each is exactly what the single-process trainer did.
import Foundation
import TailorDistributed
import TailorModels
import TailorOptim
import TailorTensor

extension Trainer {
    /// Trained tokens (the loss normaliser) and non-padding tokens of the whole global step: every rank reads every
    /// row, so each counts the step alone, from `local` when it is the whole step.
    func stepTokenCounts(ofStep s: Int, local: [TrainingBatch]) -> (trained: Int, tokens: Int) {
        let batches = parallelism.size == 1
            ? local : microBatches(ofStep: s).map { TrainingData.collate($0.map { train[$0] }, padID: padID) }
        return (batches.reduce(0) { $0 + $1.trainedTokenCount },
                batches.reduce(0) { $0 + $1.segments.filter { $0 >= 0 }.count })
    }

    /// Elements of each trainable tensor, in slot order.
    var slotElementCounts: [Int] { slots.map { model.weights[$0.slot]?.count ?? 0 } }

    /// The tensors rank `r` steps: all of them, or its run of whole tensors under ZeRO-1, cut so that the ranks hold
    /// about the same bytes of split state: owning a tensor costs its AdamW moments (8 bytes an element) and, for a
    /// tensor the other ranks hold as its bf16 copy alone, its f32 master (4 bytes more).
    var partition: ContiguousPartition {
        let counts = slotElementCounts, productOnly = productOnlySlots
        return ContiguousPartition(sizes: counts.indices.map { counts[$0] * (productOnly[$0] ? 3 : 2) },
                                   parts: parallelism.shardsOptimizer ? parallelism.size : 1)
    }

    /// Elements of each rank's tensors (of `partition`).
    var ownedElementCounts: [Int] { partition.totals(of: slotElementCounts) }

    /// The per-block gradient sums of a step that overlap its backward, on several ranks (SFT): allreduces under
    /// ZeRO-0, reduce-scatters to the owners under ZeRO-1; nil otherwise.
    func overlappedGradientSum() -> OverlappedGradientSum? {
        guard parallelism.size > 1, pairs.isEmpty else { return nil }
        return OverlappedGradientSum(communicator: parallelism.communicator, slots: slots.map(\.slot),
                                     owners: parallelism.shardsOptimizer ? partition : nil)
    }

    /// Sums the loss and the gradients over the ranks and clips them on the global norm (as torch's
    /// `clip_grad_norm_` over the whole model). Under ZeRO-1 `grads` comes back as this rank's tensors only.
    /// With `overlap`, the blocks' sums started during the backward are waited for and only the rest is summed here.
    /// Returns the summed loss and the norm before clipping.
    func reduceAndClip(_ grads: inout [Tensor], lossSum: Double, overlap: OverlappedGradientSum? = nil) throws -> (lossSum: Double, norm: Double) {
        guard parallelism.size > 1 else {
            return (lossSum, GradientClipping.clipByGlobalNorm(&grads, maxNorm: configuration.maxGradNorm))
        }
        let communicator = parallelism.communicator
        let summed = try overlap?.finish(into: &grads) ?? []
        var loss = [lossSum]
        try communicator.allReduce(&loss, .sum)
        guard parallelism.shardsOptimizer else {
            // Buckets of whole tensors up to 25 MB (PyTorch DDP's default), so the copy beside the gradients stays small;
            // tensors already summed during the backward are skipped.
            var start = 0
            while start < grads.count {
                guard !summed.contains(start) else { start += 1; continue }
                var end = start + 1, bytes = grads[start].byteCount
                while end < grads.count, !summed.contains(end), bytes + grads[end].byteCount <= Self.bucketBytes {
                    bytes += grads[end].byteCount
                    end += 1
                }
                var flat = Self.flatten(grads[start..<end])
                try communicator.allReduceSum(&flat)
                Self.unflatten(flat[...], into: &grads[start..<end])
                start = end
            }
            return (loss[0], GradientClipping.clipByGlobalNorm(&grads, maxNorm: configuration.maxGradNorm))
        }
        // The tensors no block sum covered (embedding, final norm, head), in slot order: in rank order too.
        let partition = self.partition, mine = partition.ranges[parallelism.rank]
        let rest = grads.indices.filter { !summed.contains($0) }
        let counts = grads.indices.map { summed.contains($0) ? 0 : grads[$0].count }
        let shard = try reduceScatterInBuckets(Self.flatten(rest.map { grads[$0] }[...]), counts: partition.totals(of: counts))
        var owned = Array(grads[mine])
        grads = []
        var offset = 0
        for i in mine where !summed.contains(i) {
            let j = i - mine.lowerBound, n = owned[j].count
            Self.unflatten(shard[offset..<offset + n], into: &owned[j...j])
            offset += n
        }
        // Norms of whole tensors on their owners, gathered in slot order: the same global norm as one process.
        let norms = try communicator.allGather(owned.map(GradientClipping.tensorNorm), counts: partition.itemCounts)
        let total = GradientClipping.combinedNorm(norms)
        GradientClipping.clip(&owned, globalNorm: total, maxNorm: configuration.maxGradNorm)
        grads = owned
        return (loss[0], Double(total))
    }

    /// `reduceScatterSum` in rounds of at most `bucketBytes` in all: round k reduces the k-th slice of every rank's
    /// run, so each element is still summed once over the ranks and lands on its owner.
    func reduceScatterInBuckets(_ flat: [Float], counts: [Int]) throws -> [Float] {
        let size = parallelism.size, slice = max(1, Self.bucketBytes / 4 / size)
        let offsets = counts.indices.map { counts[..<$0].reduce(0, +) }
        let rounds = ((counts.max() ?? 0) + slice - 1) / slice
        var shard: [Float] = []
        shard.reserveCapacity(counts[parallelism.rank])
        var staging: [Float] = []
        for k in 0..<max(rounds, 1) {
            staging.removeAll(keepingCapacity: true)
            let pieces = (0..<size).map { r in (offsets[r] + min(k * slice, counts[r]))..<(offsets[r] + min((k + 1) * slice, counts[r])) }
            for piece in pieces { staging.append(contentsOf: flat[piece]) }
            shard += try parallelism.communicator.reduceScatterSum(staging, counts: pieces.map(\.count))
        }
        return shard
    }

    /// One AdamW step with the clipped gradients from `reduceAndClip`; under ZeRO-1 each rank steps its tensors and
    /// the updated parameters are all-gathered (`allGatherParameters`).
    mutating func stepOptimizer(gradients grads: [Tensor], learningRate lr: Double) throws {
        let mine = parallelism.shardsOptimizer ? partition.ranges[parallelism.rank] : slots.indices
        let owned = Array(slots[mine])
        model.weights.withParameters(owned.map(\.slot)) { params in
            optimizer.step(parameters: &params, gradients: grads, names: owned.map(\.name), learningRate: lr)
        }
        guard parallelism.shardsOptimizer else { return }
        try allGatherParameters()
    }

    /// The signal that stops the run after this step, the same on every rank: under `mpirun` each rank gets its own
    /// SIGINT or SIGTERM, possibly a step apart, so the ranks agree on the largest signal any of them saw (one
    /// allreduce of a flag per step) and all stop after the same step.
    func agreedInterruption() throws -> Int32? {
        let local = interruption?()
        guard parallelism.size > 1 else { return local }
        var flag = [Double(local ?? 0)]
        try parallelism.communicator.allReduce(&flag, .max)
        return flag[0] > 0 ? Int32(flag[0]) : nil
    }

    /// The whole optimizer state on rank 0 (nil on the others) for a checkpoint in the single-process format;
    /// every rank must call it.
    func gatheredOptimizer() throws -> AdamW? {
        guard parallelism.shardsOptimizer else { return optimizer }
        let shard = Self.flatten(optimizer.stateTensors().map(\.tensor)[...])
        let started = optimizer.stepCount > 0
        let counts = ownedElementCounts.map { started ? 2 * $0 : 0 }
        let all = try parallelism.communicator.gather(shard, counts: counts, root: 0)
        guard parallelism.isPrimary else { return nil }
        guard started else { return AdamW(configuration: optimizer.configuration) }
        // Rank by rank, tensor by tensor: exp_avg then exp_avg_sq (the order of `stateTensors`).
        var tensors: [String: Tensor] = [:], offset = 0
        for (name, slot) in slots {
            let shape = model.weights[slot]?.shape ?? [0], n = shape.reduce(1, *)
            tensors[AdamW.expAvgName(name)] = Tensor(shape: shape, values: Array(all[offset..<offset + n]))
            tensors[AdamW.expAvgSqName(name)] = Tensor(shape: shape, values: Array(all[offset + n..<offset + 2 * n]))
            offset += 2 * n
        }
        let names = slots.map(\.name)
        return try AdamW(configuration: optimizer.configuration, restoring: tensors,
                         scalarState: AdamWState(stepCount: optimizer.stepCount, parameterNames: names),
                         parameterNames: names, shapes: slots.map { model.weights[$0.slot]?.shape ?? [0] })
    }

    /// This rank's part of a whole (restored) optimizer.
    func shardedOptimizer(_ whole: AdamW) throws -> AdamW {
        guard parallelism.shardsOptimizer, whole.stepCount > 0 else { return whole }
        let owned = Array(slots[partition.ranges[parallelism.rank]])
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in whole.stateTensors() { tensors[name] = tensor }
        return try AdamW(configuration: whole.configuration, restoring: tensors,
                         scalarState: AdamWState(stepCount: whole.stepCount, parameterNames: owned.map(\.name)),
                         parameterNames: owned.map(\.name), shapes: owned.map { model.weights[$0.slot]?.shape ?? [0] })
    }

    /// Writes `checkpoint-<step>` from rank 0 (the others help gather sharded state); nil on other ranks.
    func saveCheckpoint() throws -> URL? {
        let weights = try gatheredWeights(), whole = try gatheredOptimizer()
        guard parallelism.isPrimary, let weights, let whole else { return nil }
        return try TrainingCheckpoint.save(self, optimizer: whole, weights: weights, in: outputDirectory)
    }

    /// Writes the trained adapter or model from rank 0 (the others help gather sharded masters).
    func saveFinal() throws {
        guard let weights = try gatheredWeights() else { return }
        try TrainingCheckpoint.saveFinal(self, weights: weights, to: outputDirectory)
    }

    /// Fails on every rank unless all ranks train the same rows with the same configuration (a digest of both).
    func checkRanksAgree() throws {
        guard parallelism.size > 1 else { return }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a
        func mix(_ value: Int32) { hash = (hash ^ UInt64(UInt32(bitPattern: value))) &* 0x100_0000_01b3 }
        for row in train {
            mix(Int32(truncatingIfNeeded: row.inputIDs.count))
            for id in row.inputIDs { mix(id) }
            for label in row.labels { mix(label) }
        }
        for byte in (try? TrainingCheckpoint.jsonData(configuration)) ?? Data() { mix(Int32(byte)) }
        // Two exact 32-bit halves as doubles: equal everywhere iff min == max.
        var low = [Double(hash & 0xffff_ffff), Double(hash >> 32)], high = low
        try parallelism.communicator.allReduce(&low, .min)
        try parallelism.communicator.allReduce(&high, .max)
        guard low == high else { throw CommunicationError.inconsistent(what: "the training rows or the configuration") }
    }

    /// The most bytes of gradient one allreduce carries (ZeRO-0).
    static var bucketBytes: Int { 25 << 20 }

    /// Concatenates f32 tensors.
    static func flatten(_ tensors: ArraySlice<Tensor>) -> [Float] {
        var flat: [Float] = []
        flat.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
        for tensor in tensors { tensor.converted(to: .f32).withUnsafeFloats { flat.append(contentsOf: $0) } }
        return flat
    }

    /// Copies consecutive runs of `flat` into the f32 tensors, in order.
    static func unflatten(_ flat: ArraySlice<Float>, into tensors: inout ArraySlice<Tensor>) {
        var offset = flat.startIndex
        for i in tensors.indices {
            let n = tensors[i].count
            guard n > 0 else { continue }
            tensors[i].withUnsafeMutableFloats { destination in
                flat.withUnsafeBufferPointer { source in
                    destination.baseAddress!.update(from: source.baseAddress! + (offset - flat.startIndex), count: n)
                }
            }
            offset += n
        }
    }
}
