// The memory-read ceiling decode is measured against: wide loads over a buffer far larger than the caches, split
// over the workers as the streaming products split their weights.
import CTailorKernels
import Dispatch

public enum MemoryBandwidth {
    /// Bytes per second read from memory by all workers together: the best of `repeats` passes over a buffer of
    /// `bytes` (rounded down to a multiple of 64 per worker), written once before.
    public static func measureRead(bytes: Int = 256 << 20, repeats: Int = 5) -> Double {
        let workers = Parallel.workerCount, share = max(64, bytes / workers / 64 * 64), total = share * workers
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 1, count: total)
        let base = UncheckedSendable(UnsafeRawPointer(buffer))
        var best = 0.0
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            // The C kernel is opaque to Swift and its result is stored, so the reads cannot be removed.
            var sums = [UInt64](repeating: 0, count: workers)
            sums.withUnsafeMutableBufferPointer { s in
                let out = UncheckedSendable(s.baseAddress!)
                Parallel.forEachChunk(workers, costPerItem: share) { range in
                    for w in range { out.value[w] = tk_read_memory(base.value + w * share, share) }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(total) / max(seconds, 1e-9))
        }
        return best
    }
}
