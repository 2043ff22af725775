// A frozen weight held as packed 4-bit codes plus per-block scales (plain f32 or double-quantized 8-bit).
import TailorTensor

/// Double-quantized block scales: `absmax[b] = map[codes[b]] * nestedAbsmax[b / blockSize] + offset` (f32,
/// multiply then add, no fused multiply-add — that is what bnb computes).
public struct NestedScales: Sendable {
    /// One 8-bit code per 4-bit block, U8 `[blockCount]` (saved as `weight.absmax`).
    public let codes: Tensor
    /// One f32 scale per `blockSize` codes, F32 `[ceil(blockCount / blockSize)]`.
    public let nestedAbsmax: Tensor
    /// The mean of the original absmax values, subtracted before the 8-bit quantization.
    public let offset: Float
    /// The 8-bit code book (256 f32 values; `DynamicMap.signed256` unless a file says otherwise).
    public let map: [Float]
    /// Codes per nested block (bitsandbytes always uses 256).
    public let blockSize: Int

    /// Wraps already-quantized scales; `QuantizedFourBitMatrix.init` checks their sizes.
    public init(codes: Tensor, nestedAbsmax: Tensor, offset: Float, map: [Float] = DynamicMap.signed256,
                blockSize: Int = 256) {
        self.codes = codes
        self.nestedAbsmax = nestedAbsmax
        self.offset = offset
        // Share the static table's storage when a file carries the standard map (it always does).
        self.map = map == DynamicMap.signed256 ? DynamicMap.signed256 : map
        self.blockSize = blockSize
    }
}

/// The per-block scales of a 4-bit matrix.
public enum FourBitScales: Sendable {
    /// F32 `[blockCount]`: the absmax of each block.
    case absmax(Tensor)
    /// Double-quantized absmax.
    case nested(NestedScales)
}

/// A weight quantized by bitsandbytes' 4-bit scheme (or by `FourBitQuantizer`).
///
/// Layout: the tensor is flattened row-major into `count` elements; blocks are runs of `blockSize` consecutive
/// elements (they may straddle rows); element i's code sits in byte i/2, the high nibble for even i.
/// Rows (the outermost dimension) can be dequantized tile by tile without materialising the f32 weight.
public struct QuantizedFourBitMatrix: Sendable {
    /// Logical shape, usually `[out, in]`.
    public let shape: [Int]
    /// NF4 or FP4.
    public let type: FourBitType
    /// Elements per block (32…4096, a power of two).
    public let blockSize: Int
    /// `ceil(count / 2)` bytes of packed codes, any dtype (bnb may store them as U8 `[bytes, 1]` or reinterpret
    /// them as bf16 for FSDP); only the raw bytes are read.
    public let packed: Tensor
    /// Block scales.
    public let scales: FourBitScales
    /// The dtype the weight had before quantization (`dequantizeAll()` returns this dtype).
    public let originalDType: DType

    /// Number of weight elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of 4-bit blocks, `ceil(count / blockSize)`.
    public var blockCount: Int { (count + blockSize - 1) / blockSize }
    /// Rows of the outermost dimension (1 for a 1-D tensor).
    public var rowCount: Int { shape.count >= 2 ? shape[0] : 1 }
    /// Elements per row.
    public var rowLength: Int { rowCount == 0 ? 0 : count / rowCount }
    /// True when the block scales are double-quantized.
    public var isNested: Bool { if case .nested = scales { true } else { false } }

    /// Bytes held: packed codes plus scales (and, when nested, the 4-byte offset; the 8-bit map is shared).
    public var byteCount: Int {
        switch scales {
        case .absmax(let absmax): packed.byteCount + absmax.byteCount
        case .nested(let nested): packed.byteCount + nested.codes.byteCount + nested.nestedAbsmax.byteCount + 4
        }
    }

    /// Checks that the parts agree with each other; `name` labels tensors in errors (e.g. a module prefix).
    public init(shape: [Int], type: FourBitType, blockSize: Int, packed: Tensor, scales: FourBitScales,
                originalDType: DType, name: String = "weight") throws {
        guard FourBitQuantizer.isValidBlockSize(blockSize) else { throw QuantizationError.invalidBlockSize(blockSize) }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw QuantizationError.inconsistentShape(tensor: name, expected: "non-negative dimensions", found: "\(shape)")
        }
        let count = shape.reduce(1, *)
        let blocks = (count + blockSize - 1) / blockSize
        guard packed.byteCount == (count + 1) / 2 else {
            throw QuantizationError.inconsistentShape(
                tensor: name, expected: "\((count + 1) / 2) packed bytes for shape \(shape)",
                found: "\(packed.byteCount) bytes (\(packed))")
        }
        switch scales {
        case .absmax(let absmax):
            try Self.check(absmax, name: "\(name).absmax", dtype: .f32, count: blocks)
        case .nested(let nested):
            try Self.check(nested.codes, name: "\(name).absmax", dtype: .u8, count: blocks)
            guard nested.blockSize > 0 else {
                throw QuantizationError.inconsistentShape(
                    tensor: "\(name).nested_blocksize", expected: "a positive block size", found: "\(nested.blockSize)")
            }
            let nestedBlocks = (blocks + nested.blockSize - 1) / nested.blockSize
            try Self.check(nested.nestedAbsmax, name: "\(name).nested_absmax", dtype: .f32, count: nestedBlocks)
            guard nested.map.count == 256 else {
                throw QuantizationError.inconsistentShape(
                    tensor: "\(name).nested_quant_map", expected: "256 values", found: "\(nested.map.count)")
            }
        }
        self.shape = shape
        self.type = type
        self.blockSize = blockSize
        self.packed = packed
        self.scales = scales
        self.originalDType = originalDType
    }

    private static func check(_ tensor: Tensor, name: String, dtype: DType, count: Int) throws {
        guard tensor.dtype == dtype else {
            throw QuantizationError.wrongDType(tensor: name, expected: [dtype], found: tensor.dtype)
        }
        guard tensor.count == count else {
            throw QuantizationError.inconsistentShape(tensor: name, expected: "\(count) elements",
                                                      found: "\(tensor.count) (shape \(tensor.shape))")
        }
    }

    /// The f32 absmax of every block (decoding the 8-bit codes when nested).
    public func blockScales() -> [Float] {
        withScaleReader { reader in (0..<blockCount).map { reader.scale(ofBlock: $0) } }
    }

    /// Calls `body` with a reader of block scales valid for the duration of the call.
    func withScaleReader<R>(_ body: (BlockScaleReader) throws -> R) rethrows -> R {
        switch scales {
        case .absmax(let absmax):
            return try absmax.withUnsafeFloats { try body(BlockScaleReader(absmax: $0.baseAddress)) }
        case .nested(let nested):
            return try nested.codes.withUnsafeRawBytes { codes in
                try nested.nestedAbsmax.withUnsafeFloats { nestedAbsmax in
                    try nested.map.withUnsafeBufferPointer { map in
                        try body(BlockScaleReader(
                            codes: codes.bindMemory(to: UInt8.self).baseAddress, nestedAbsmax: nestedAbsmax.baseAddress,
                            map: map.baseAddress, offset: nested.offset, nestedBlockSize: nested.blockSize))
                    }
                }
            }
        }
    }
}

/// Pointers to the scales of one matrix; computes a block's absmax on demand (cheap: one per block).
struct BlockScaleReader {
    let absmax: UnsafePointer<Float>?
    let codes: UnsafePointer<UInt8>?
    let nestedAbsmax: UnsafePointer<Float>?
    let map: UnsafePointer<Float>?
    let offset: Float
    let nestedBlockSize: Int

    init(absmax: UnsafePointer<Float>?) {
        self.absmax = absmax
        codes = nil; nestedAbsmax = nil; map = nil; offset = 0; nestedBlockSize = 1
    }

    init(codes: UnsafePointer<UInt8>?, nestedAbsmax: UnsafePointer<Float>?, map: UnsafePointer<Float>?,
         offset: Float, nestedBlockSize: Int) {
        absmax = nil
        self.codes = codes; self.nestedAbsmax = nestedAbsmax; self.map = map
        self.offset = offset; self.nestedBlockSize = nestedBlockSize
    }

    @inline(__always) func scale(ofBlock b: Int) -> Float {
        if let absmax { return absmax[b] }
        guard let codes, let nestedAbsmax, let map else { return 0 }
        // Two roundings (product, then sum) exactly as bnb: dequantize_blockwise, then `absmax += offset`.
        let product = map[Int(codes[b])] * nestedAbsmax[b / nestedBlockSize]
        return product + offset
    }
}
