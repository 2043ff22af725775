// Large tensor buffers recycled instead of returned to the system, so that a training step reuses the previous step's
// activation memory rather than page-faulting fresh memory in (malloc hands big blocks back to the kernel on free).
import Synchronization

/// A free list of large buffers by size. `TensorStorage` takes its bytes from here and gives them back on deinit.
///
/// Steps of a training run allocate the same sizes every time, so the activations one step frees are the next
/// step's. The pool never makes the process hold more than it already did: live tensor bytes plus idle bytes stay
/// within the peak of live tensor bytes so far (`MemoryTracker`), and within `idleByteLimit`. A buffer that does not
/// fit is freed; a fresh allocation that would not fit first frees the idle buffers unused the longest. Only buffers
/// of at least `minimumBytes` are pooled (malloc reuses small blocks itself without page faults).
public final class StoragePool: Sendable {
    /// The pool every `TensorStorage` uses.
    public static let shared = StoragePool(idleByteLimit: Int.max, tracker: .shared)

    /// Smallest pooled buffer.
    public static let minimumBytes = 1 << 20
    /// Buffers are pooled by their size rounded up to this (a page), so near sizes share a list.
    static let granule = 4096
    /// Alignment of every buffer (cache lines; AVX-512 loads).
    static let alignment = 64

    /// Most bytes kept idle.
    public let idleByteLimit: Int
    /// Whose live and peak bytes bound the idle bytes; nil: only `idleByteLimit` does.
    let tracker: MemoryTracker?

    private struct State {
        /// Idle buffers by capacity: addresses with the time they went idle, oldest first.
        var idle: [Int: [(address: UInt, stamp: Int)]] = [:]
        var idleBytes = 0
        var clock = 0
    }
    private let state = Mutex<State>(State())

    public init(idleByteLimit: Int, tracker: MemoryTracker? = nil) {
        self.idleByteLimit = idleByteLimit
        self.tracker = tracker
    }

    /// Bytes held idle right now.
    public var idleBytes: Int { state.withLock { $0.idleBytes } }

    /// A buffer of at least `byteCount` bytes (its capacity is `capacity(for:)`), uninitialised. Call before the
    /// tracker counts the new bytes.
    func take(_ byteCount: Int) -> UnsafeMutableRawPointer {
        let size = Self.capacity(for: byteCount)
        guard size >= Self.minimumBytes else { return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.alignment) }
        let room = headroom()
        let (reused, evicted): (UInt?, [UInt]) = state.withLock { s in
            if let last = s.idle[size]?.popLast() {
                s.idleBytes -= size
                return (last.address, [])
            }
            // A fresh buffer: make room by freeing the idle buffers unused the longest.
            var evicted: [UInt] = []
            while s.idleBytes > 0 && s.idleBytes + size > room {
                guard let (oldestSize, _) = s.idle.filter({ !$0.value.isEmpty }).min(by: { $0.value[0].stamp < $1.value[0].stamp })
                else { break }
                evicted.append(s.idle[oldestSize, default: []].removeFirst().address)
                s.idleBytes -= oldestSize
            }
            return (nil, evicted)
        }
        for address in evicted { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
        if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused) { return pointer }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.alignment)
    }

    /// Returns a buffer that `take(byteCount)` handed out. Call after the tracker stopped counting its bytes.
    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = Self.capacity(for: byteCount)
        if size >= Self.minimumBytes {
            let room = headroom()
            let kept = state.withLock { s in
                guard s.idleBytes + size <= room else { return false }
                s.clock += 1
                s.idle[size, default: []].append((UInt(bitPattern: pointer), s.clock))
                s.idleBytes += size
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    /// Most idle bytes allowed now: the limit, and what live tensors leave of their peak.
    private func headroom() -> Int {
        guard let tracker else { return idleByteLimit }
        return min(idleByteLimit, max(0, tracker.peakBytes - tracker.liveBytes))
    }

    /// Frees every idle buffer.
    public func drain() {
        let addresses = state.withLock { s in
            defer { s = State() }
            return s.idle.values.flatMap { $0.map(\.address) }
        }
        for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// The bytes actually allocated for a request of `byteCount`.
    static func capacity(for byteCount: Int) -> Int {
        let size = max(byteCount, 1)
        return size < minimumBytes ? size : (size + granule - 1) / granule * granule
    }
}
