// Splitting loops over the cores. Kernels are synchronous; parallelism lives inside them.
import CTailorKernels
import Dispatch

enum Parallel {
    /// Number of workers kernels split their loops into.
    static let workerCount = max(1, System.activeProcessorCount)

    /// Runs `body` over `0..<count` split into contiguous chunks, one per worker, when the work is large enough.
    /// `costPerItem` is a rough count of floating-point operations per index; small loops stay on one thread.
    static func forEachChunk(_ count: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(workerCount, count)
        if chunks == 1 || count * costPerItem < 32_768 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let split = { (c: Int) in
                let start = count * c / chunks, end = count * (c + 1) / chunks
                if start < end { body(start..<end) }
            }
            // The spinning pool (CTailorKernels/WorkerPool.c) when it takes the job; GCD otherwise (another job is
            // running, a nested call, or a platform without the pool).
            var job = split
            let pooled = withUnsafeMutablePointer(to: &job) { pointer in
                tk_pool_run(chunks, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, pointer) != 0
            }
            if !pooled {
                // Each worker gets a disjoint range; the closure's captured pointers are only read or written per range.
                let task = UncheckedSendable(split)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in task.value(c) }
            }
        }
    }
}

/// Carries a non-Sendable value into `concurrentPerform`; the kernels guarantee that workers touch disjoint memory.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

#if canImport(Darwin)
import Darwin
enum System { static var activeProcessorCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) } }
#else
import Glibc
enum System {
    /// The processors this process may run on (its affinity mask, `Cpus_allowed` in /proc/self/status, which
    /// `taskset` and `mpirun --bind-to core` narrow), at most the online ones.
    static var activeProcessorCount: Int {
        let online = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        guard let file = fopen("/proc/self/status", "r") else { return online }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 8192)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            let allowed = text.dropFirst("Cpus_allowed:".count).reduce(0) { $0 + ($1.hexDigitValue ?? 0).nonzeroBitCount }
            return allowed > 0 ? min(allowed, online) : online
        }
        return online
    }
}
#endif
