// A dense, row-major, n-dimensional array with copy-on-write storage.

/// A dense row-major tensor. Compute happens in f32; f16/bf16 are storage formats converted on read.
///
/// `Tensor` is a value: copies share storage until one of them is written (copy-on-write).
public struct Tensor: Sendable {
    /// Sizes of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// Element storage type.
    public let dtype: DType
    /// The bytes; a tensor may start at `byteOffset` inside a shared storage (memory-mapped files).
    public private(set) var storage: TensorStorage
    public private(set) var byteOffset: Int

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Bytes occupied by the elements.
    public var byteCount: Int { count * dtype.byteSize }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// A tensor of zeros.
    public init(zeros shape: [Int], dtype: DType = .f32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.dtype = dtype
        storage = TensorStorage(zeroedByteCount: shape.reduce(1, *) * dtype.byteSize)
        byteOffset = 0
    }

    /// A tensor whose bytes the caller fills right away through `withUnsafeMutable…`.
    public init(uninitialized shape: [Int], dtype: DType = .f32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.dtype = dtype
        storage = TensorStorage(uninitializedByteCount: shape.reduce(1, *) * dtype.byteSize)
        byteOffset = 0
    }

    /// An f32 tensor holding `values` (row-major); `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.init(uninitialized: shape, dtype: .f32)
        values.withUnsafeBytes { src in storage.pointer.copyMemory(from: src.baseAddress!, byteCount: src.count) }
    }

    /// A tensor that copies `bytes` (row-major, `dtype` elements).
    public init(shape: [Int], dtype: DType, copying bytes: UnsafeRawBufferPointer) {
        precondition(shape.reduce(1, *) * dtype.byteSize == bytes.count, "shape \(shape) × \(dtype) ≠ \(bytes.count) bytes")
        self.init(uninitialized: shape, dtype: dtype)
        if let base = bytes.baseAddress { storage.pointer.copyMemory(from: base, byteCount: bytes.count) }
    }

    /// A tensor viewing `byteCount(shape, dtype)` bytes at `offset` of `storage` without copying.
    public init(shape: [Int], dtype: DType, storage: TensorStorage, byteOffset: Int = 0) {
        precondition(byteOffset + shape.reduce(1, *) * dtype.byteSize <= storage.byteCount, "view out of range")
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
        self.byteOffset = byteOffset
    }

    /// The same elements seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var copy = self
        copy.shape = newShape
        return copy
    }

    // MARK: Access

    /// Reads the raw bytes.
    public func withUnsafeRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.pointer + byteOffset, count: byteCount))
    }

    /// Reads the elements of an f32 tensor.
    public func withUnsafeFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(dtype == .f32, "expected an f32 tensor, got \(dtype)")
        let base = (storage.pointer + byteOffset).assumingMemoryBound(to: Float.self)
        return try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// Writes the elements of an f32 tensor, copying shared or borrowed storage first.
    public mutating func withUnsafeMutableFloats<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(dtype == .f32, "expected an f32 tensor, got \(dtype)")
        makeUnique()
        let base = (storage.pointer + byteOffset).assumingMemoryBound(to: Float.self)
        return try body(UnsafeMutableBufferPointer(start: base, count: count))
    }

    /// Writes the raw bytes, copying shared or borrowed storage first.
    public mutating func withUnsafeMutableRawBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableRawBufferPointer(start: storage.pointer + byteOffset, count: byteCount))
    }

    /// True when no other tensor shares these bytes and they are this tensor's own (not borrowed): writing them
    /// through `withUnsafeMutable…` changes them in place, with no copy.
    public var isUniquelyReferenced: Bool {
        mutating get { isKnownUniquelyReferenced(&storage) && !storage.isBorrowed }
    }

    private mutating func makeUnique() {
        if isUniquelyReferenced {
            storage.dropDerived()   // the caller is about to write the bytes in place
            return
        }
        let fresh = TensorStorage(uninitializedByteCount: byteCount)
        fresh.pointer.copyMemory(from: storage.pointer + byteOffset, byteCount: byteCount)
        storage = fresh
        byteOffset = 0
    }

    // MARK: Conversion

    /// The elements as f32 values (any floating-point or integer dtype).
    public func floats() -> [Float] {
        withUnsafeRawBytes { raw in
            let n = count
            switch dtype {
            case .f32: return Array(raw.bindMemory(to: Float.self))
            case .f16: return raw.bindMemory(to: UInt16.self).map { HalfConversion.float(fromF16: $0) }
            case .bf16: return raw.bindMemory(to: UInt16.self).map { HalfConversion.float(fromBF16: $0) }
            case .f64: return raw.bindMemory(to: Double.self).map { Float($0) }
            case .i32: return raw.bindMemory(to: Int32.self).map { Float($0) }
            case .i64: return raw.bindMemory(to: Int64.self).map { Float($0) }
            case .u8: return (0..<n).map { Float(raw[$0]) }
            }
        }
    }

    /// A copy stored as `target` (f32, f16, bf16 or f64), rounding to nearest even.
    public func converted(to target: DType) -> Tensor {
        if target == dtype { return self }
        precondition(target.isFloatingPoint, "conversion to \(target) is not supported")
        var out = Tensor(uninitialized: shape, dtype: target)
        out.withUnsafeMutableRawBytes { raw in
            func store<Values: RandomAccessCollection<Float>>(_ values: Values) where Values.Index == Int {
                switch target {
                case .f32: for i in values.indices { raw.storeBytes(of: values[i], toByteOffset: 4 * i, as: Float.self) }
                case .f16: for i in values.indices { raw.storeBytes(of: HalfConversion.f16(from: values[i]), toByteOffset: 2 * i, as: UInt16.self) }
                case .bf16: for i in values.indices { raw.storeBytes(of: HalfConversion.bf16(from: values[i]), toByteOffset: 2 * i, as: UInt16.self) }
                case .f64: for i in values.indices { raw.storeBytes(of: Double(values[i]), toByteOffset: 8 * i, as: Double.self) }
                default: break
                }
            }
            // f32 sources are read in place; others are widened to f32 first.
            if dtype == .f32 {
                withUnsafeRawBytes { store($0.bindMemory(to: Float.self)) }
            } else {
                store(floats())
            }
        }
        return out
    }

    /// Rows `range` of the outermost dimension, copied.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0], "rows \(range) out of \(shape)")
        let rowBytes = shape.dropFirst().reduce(1, *) * dtype.byteSize
        return withUnsafeRawBytes { raw in
            Tensor(shape: [range.count] + shape.dropFirst(), dtype: dtype,
                   copying: UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound * rowBytes)..<(range.upperBound * rowBytes)]))
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor(\(dtype), \(shape))" }
}
