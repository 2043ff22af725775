// The bytes behind a tensor: owned (allocated and counted) or borrowed from an owner such as a memory-mapped file.

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
        pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        self.byteCount = byteCount
        owner = nil
        MemoryTracker.shared.allocated(byteCount)
    }

    /// Allocates uninitialised bytes, counted by `MemoryTracker.shared`; callers must write every byte.
    public init(uninitializedByteCount byteCount: Int) {
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
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

    deinit {
        if owner == nil {
            pointer.deallocate()
            MemoryTracker.shared.freed(byteCount)
        }
    }
}
