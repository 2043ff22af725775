// Summing gradients over the ranks while the backward still runs: on the last micro-batch of a step, block l's
// gradients are complete as soon as its backward is done, so their sum starts then (one bucket per block, as PyTorch
// DDP's gradient hooks fill buckets) and runs while the blocks below compute — an allreduce under ZeRO-0, a
// reduce-scatter to the tensors' owners under ZeRO-1. The embedding, final norm and head, and any block not started
// (a rank with no rows this step), are summed after the backward.
import TailorDistributed
import TailorModels
import TailorTensor

/// The per-block sums of one optimizer step. Used from the training thread only (MPI is funnelled through it); the
/// hook that feeds it must be `@Sendable`, hence the unchecked conformance.
final class OverlappedGradientSum: @unchecked Sendable {
    let communicator: any Communicator
    /// ZeRO-1: which slots each rank owns; a block's sum is then scattered to the owners. nil: allreduce.
    let owners: ContiguousPartition?
    /// The trainer's slots of each block (contiguous in slot order), by layer.
    let slotsOfLayer: [Int: Range<Int>]
    let slots: [ParameterSlot]
    private var started: [(slots: Range<Int>, sum: PendingSum)] = []
    private var startedLayers: Set<Int> = []
    private var failure: CommunicationError?

    init(communicator: any Communicator, slots: [ParameterSlot], owners: ContiguousPartition? = nil) {
        self.communicator = communicator
        self.owners = owners
        self.slots = slots
        var ranges: [Int: Range<Int>] = [:]
        for (i, slot) in slots.enumerated() {
            guard let l = slot.layer else { continue }
            ranges[l] = (ranges[l]?.lowerBound ?? i)..<(i + 1)
        }
        slotsOfLayer = ranges
    }

    /// The hook for `TrainingPassOptions.afterLayerBackward`: starts block `l`'s sum and lets earlier ones progress.
    func layerDone(_ l: Int, _ gradients: LlamaLayerGradients) {
        guard let range = slotsOfLayer[l] else { return }
        start(layer: l, range: range, tensors: slots[range].map { gradients[$0] ?? Tensor(zeros: [0]) })
    }

    private func start(layer l: Int, range: Range<Int>, tensors: [Tensor]) {
        guard failure == nil, !startedLayers.contains(l) else { return }
        startedLayers.insert(l)
        do throws(CommunicationError) {
            let flat = Trainer.flatten(tensors[...])
            if let owners {
                // Slots of the block each rank owns: the ranks' runs are contiguous, so the block's tensors are in rank order.
                let counts = owners.ranges.map { owned in
                    range.clamped(to: owned).reduce(0) { $0 + tensors[$1 - range.lowerBound].count }
                }
                started.append((range, try communicator.startReduceScatterSum(flat, counts: counts)))
            } else {
                started.append((range, try communicator.startAllReduceSum(flat)))
            }
            try communicator.progress(started.map(\.sum))
        } catch {
            failure = error
        }
    }

    /// Starts the blocks no hook started (last block first, the hooks' order, so every rank issues the same sums in
    /// the same order), waits for every block's sum and writes it into `grads` (the trainer's slot order; under ZeRO-1
    /// only this rank's tensors, the others are left as they were). Returns the slots summed here; the caller sums
    /// the others.
    func finish(into grads: inout [Tensor]) throws -> Set<Int> {
        for (l, range) in slotsOfLayer.sorted(by: { $0.key > $1.key }) { start(layer: l, range: range, tensors: Array(grads[range])) }
        if let failure { throw failure }
        var summed = Set<Int>()
        for (range, sum) in started {
            let values = try communicator.wait(for: sum)
            let target = owners.map { range.clamped(to: $0.ranges[communicator.rank]) } ?? range
            Trainer.unflatten(values[...], into: &grads[target])
            summed.formUnion(range)
        }
        started = []
        return summed
    }
}
