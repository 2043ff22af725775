// Large tensor buffers recycled instead of returned to the system, so that a training step reuses the previous step's
// activation memory rather than page-faulting fresh memory in (malloc hands big blocks back to the kernel on free).
import Synchronization

/// A free list of large buffers by size. `TensorStorage` takes its bytes from here and gives them back on deinit.
///
/// Steps of a training run allocate the same sizes every time, so freed activations of one step are the next
/// step's. Idle bytes are bounded by `idleByteLimit`: a buffer that would exceed it is freed at once. Only buffers of
/// at least `minimumBytes` are pooled (malloc reuses small blocks itself without page faults).
public final class StoragePool: Sendable {
    /// The pool every `TensorStorage` uses.
    public static let shared = StoragePool(idleByteLimit: 512 << 20)

    /// Smallest pooled buffer.
    public static let minimumBytes = 1 << 20
    /// Buffers are pooled by their size rounded up to this (a page), so near sizes share a list.
    static let granule = 4096
    /// Alignment of every buffer (cache lines; AVX-512 loads).
    static let alignment = 64

    /// Most bytes kept idle.
    public let idleByteLimit: Int

    private struct State {
        var idle: [Int: [UInt]] = [:]   // addresses by capacity
        var idleBytes = 0
    }
    private let state = Mutex<State>(State())

    public init(idleByteLimit: Int) { self.idleByteLimit = idleByteLimit }

    /// Bytes held idle right now.
    public var idleBytes: Int { state.withLock { $0.idleBytes } }

    /// A buffer of at least `byteCount` bytes (its capacity is `capacity(for:)`), uninitialised.
    func take(_ byteCount: Int) -> UnsafeMutableRawPointer {
        let size = Self.capacity(for: byteCount)
        if size >= Self.minimumBytes {
            let reused: UInt? = state.withLock { s in
                guard let address = s.idle[size]?.popLast() else { return nil }
                s.idleBytes -= size
                return address
            }
            if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused) { return pointer }
        }
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.alignment)
    }

    /// Returns a buffer that `take(byteCount)` handed out.
    func give(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        let size = Self.capacity(for: byteCount)
        if size >= Self.minimumBytes {
            let kept = state.withLock { s in
                guard s.idleBytes + size <= idleByteLimit else { return false }
                s.idle[size, default: []].append(UInt(bitPattern: pointer))
                s.idleBytes += size
                return true
            }
            if kept { return }
        }
        pointer.deallocate()
    }

    /// Frees every idle buffer.
    public func drain() {
        let addresses = state.withLock { s in
            defer { s = State() }
            return s.idle.values.flatMap { $0 }
        }
        for address in addresses { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// The bytes actually allocated for a request of `byteCount`.
    static func capacity(for byteCount: Int) -> Int {
        let size = max(byteCount, 1)
        return size < minimumBytes ? size : (size + granule - 1) / granule * granule
    }
}
