// The bytes behind a tensor: owned (allocated and counted) or borrowed from an owner such as a memory-mapped file.
import Synchronization

/// A block of bytes shared by tensors; copy-on-write happens in `Tensor`.
public final class TensorStorage: @unchecked Sendable {
    /// Start of the bytes (64-byte aligned when owned).
    public let pointer: UnsafeMutableRawPointer
    /// Length in bytes.
    public let byteCount: Int
    private let owner: AnyObject?

    /// Allocates `byteCount` zeroed bytes, counted by `MemoryTracker.shared`.
    public init(zeroedByteCount byteCount: Int) {
        let size = max(byteCount, 1)
        pointer = StoragePool.shared.take(size)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        self.byteCount = byteCount
        owner = nil
        MemoryTracker.shared.allocated(byteCount)
    }

    /// Allocates uninitialised bytes, counted by `MemoryTracker.shared`; callers must write every byte.
    public init(uninitializedByteCount byteCount: Int) {
        pointer = StoragePool.shared.take(max(byteCount, 1))
        self.byteCount = byteCount
        owner = nil
        MemoryTracker.shared.allocated(byteCount)
    }

    /// Wraps bytes that `owner` keeps alive (a memory-mapped file, for example). Not counted, never freed here.
    public init(borrowing pointer: UnsafeRawPointer, byteCount: Int, owner: AnyObject) {
        self.pointer = UnsafeMutableRawPointer(mutating: pointer)
        self.byteCount = byteCount
        self.owner = owner
    }

    /// True when the bytes belong to another object (and must be copied before writing).
    public var isBorrowed: Bool { owner != nil }

    /// Data a kernel derived from these bytes (a weight reordered into a library's blocked layout), kept with them
    /// so that it is made once. `Tensor` drops it before it writes the bytes in place, so it never goes stale.
    /// Guarded by `derivedLock`.
    private var derivedTable: [AnyHashable: AnyObject] = [:]
    /// False for bytes that live too briefly for derived data to pay (a copy remade every optimizer step).
    private var keepsDerived = true
    private let derivedLock = Mutex<Void>(())

    /// The data derived under `key`, made by `make` on first use (under a lock: made once even when two threads ask).
    /// `make` returning nil stores nothing; after `refuseDerived()` nothing is made and nil is returned.
    public func derived(_ key: AnyHashable, make: () -> AnyObject?) -> AnyObject? {
        var result: AnyObject?
        derivedLock.withLock { _ in
            guard keepsDerived else { return }
            if let found = derivedTable[key] {
                result = found
            } else {
                result = make()
                if let result { derivedTable[key] = result }
            }
        }
        return result
    }

    /// Makes `derived` return nil from now on: for bytes used about once before they are replaced, where deriving
    /// (packing a weight) costs as much as it saves and its copy only adds memory.
    public func refuseDerived() {
        derivedLock.withLock { _ in
            keepsDerived = false
            derivedTable.removeAll()
        }
    }

    /// Forgets all derived data (the bytes are about to change).
    public func dropDerived() {
        derivedLock.withLock { _ in if !derivedTable.isEmpty { derivedTable.removeAll() } }
    }

    deinit {
        if owner == nil {
            MemoryTracker.shared.freed(byteCount)
            StoragePool.shared.give(pointer, byteCount: max(byteCount, 1))
        }
    }
}
