// Process-wide accounting of tensor memory: live bytes now and the peak since the last reset.
import Synchronization
#if canImport(Darwin)
import Darwin
#else
import Glibc
#endif

/// Counts the bytes held by tensor storages that Tailor allocated (memory-mapped files are not counted).
///
/// `inspect` and the benchmarks report these numbers; tests use them to check that memory drops where it should.
public final class MemoryTracker: Sendable {
    /// The tracker every `TensorStorage` reports to.
    public static let shared = MemoryTracker()

    private let live = Atomic<Int>(0)
    private let peak = Atomic<Int>(0)

    /// Bytes held right now.
    public var liveBytes: Int { live.load(ordering: .relaxed) }
    /// Most bytes held at once since the process started or `resetPeak()` was called.
    public var peakBytes: Int { peak.load(ordering: .relaxed) }

    /// Starts a new peak measurement from the current live bytes.
    public func resetPeak() { peak.store(live.load(ordering: .relaxed), ordering: .relaxed) }

    func allocated(_ bytes: Int) {
        let now = live.add(bytes, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    func freed(_ bytes: Int) { live.subtract(bytes, ordering: .relaxed) }
}

extension MemoryTracker {
    /// The process's peak resident set size in bytes (getrusage: kilobytes on Linux, bytes on macOS). Counts
    /// everything — memory-mapped weights, BLAS buffers, the runtime — where `peakBytes` counts tensors only.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if canImport(Darwin)
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)
        #else
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
        #endif
    }
}
