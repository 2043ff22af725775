// GGUF v3 writer with gguf-py's exact layout (spec §4.1): header, metadata, tensor infos, aligned padded data.
import Foundation
import TailorTensor

/// One tensor to write: its row-major shape, stored type and already-encoded bytes.
public struct GGUFTensorData: Sendable {
    public var name: String
    /// Row-major (PyTorch) shape; written reversed as GGML dims.
    public var shape: [Int]
    public var type: GGMLType
    public var bytes: [UInt8]

    public init(name: String, shape: [Int], type: GGMLType, bytes: [UInt8]) {
        self.name = name
        self.shape = shape
        self.type = type
        self.bytes = bytes
    }

    /// Encodes a floating-point tensor as F32, F16, BF16 (round-to-nearest-even) or Q8_0, Q4_0, Q4_1
    /// (gguf-py's reference quantizers; the last dimension must be a multiple of 32).
    public init(name: String, tensor: Tensor, as type: GGMLType) throws {
        let values = tensor.converted(to: .f32)
        let encoded: [UInt8]
        switch type {
        case .F32, .F16, .BF16:
            let target: DType = type == .F32 ? .f32 : type == .F16 ? .f16 : .bf16
            encoded = tensor.converted(to: target).withUnsafeRawBytes { Array($0) }
        case .Q8_0, .Q4_0, .Q4_1:
            guard let last = tensor.shape.last, last % 32 == 0 else {
                throw FormatError.invalidArgument(reason: "tensor '\(name)' of shape \(tensor.shape): \(type) needs rows that are a multiple of 32")
            }
            encoded = try values.withUnsafeFloats { try GGMLQuantize.quantize(type, $0) }
        default:
            throw FormatError.invalidArgument(reason: "tensor '\(name)': cannot encode \(type) (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1)")
        }
        self.init(name: name, shape: tensor.shape, type: type, bytes: encoded)
    }
}

/// Writes GGUF v3 files byte-identical to gguf-py's `GGUFWriter` for the same metadata (in the same order) and
/// tensors: every tensor's data starts at a multiple of `alignment` and is zero-padded to it, the last one too.
public enum GGUFWriter {
    /// The complete file as bytes. `metadata` order is kept (gguf-py puts `general.architecture` first); a
    /// `general.alignment` entry, if present, must match `alignment`.
    public static func data(metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorData], alignment: Int = 32) throws -> Data {
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw FormatError.invalidArgument(reason: "GGUF alignment \(alignment) is not a power of two")
        }
        if let declared = metadata.first(where: { $0.key == "general.alignment" })?.value.intValue, declared != alignment {
            throw FormatError.invalidArgument(reason: "general.alignment \(declared) differs from the alignment \(alignment) used")
        }
        var out = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); out.append(contentsOf: Array(s.utf8)) }
        func pad() { out.append(Data(count: (alignment - out.count % alignment) % alignment)) }

        u32(GGUFFile.magic)
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (key, value) in metadata {
            string(key)
            u32(try typeID(value, key: key))
            try append(value, key: key, into: &out)
        }
        var offset = 0
        for tensor in tensors {
            let dims = Array(tensor.shape.reversed())
            guard let expected = tensor.type.byteCount(dims: dims), expected == tensor.bytes.count else {
                throw FormatError.invalidArgument(reason: "tensor '\(tensor.name)': \(tensor.bytes.count) bytes do not hold shape \(tensor.shape) as \(tensor.type)")
            }
            string(tensor.name)
            u32(UInt32(dims.count))
            for d in dims { u64(UInt64(d)) }
            u32(tensor.type.rawValue)
            u64(UInt64(offset))
            offset += tensor.bytes.count + (alignment - tensor.bytes.count % alignment) % alignment
        }
        pad()
        for tensor in tensors {
            out.append(contentsOf: tensor.bytes)
            pad()
        }
        return out
    }

    /// Writes the file atomically (temporary file + rename).
    public static func write(metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorData], alignment: Int = 32, to url: URL) throws {
        try AtomicFile.write(try data(metadata: metadata, tensors: tensors, alignment: alignment), to: url)
    }

    static func typeID(_ value: GGUFValue, key: String) throws -> UInt32 {
        switch value {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    /// A value's payload (no type id): arrays write element type, count, then elements without type ids.
    private static func append(_ value: GGUFValue, key: String, into out: inout Data) throws {
        func raw<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        switch value {
        case .uint8(let v): raw(v)
        case .int8(let v): raw(v)
        case .uint16(let v): raw(v)
        case .int16(let v): raw(v)
        case .uint32(let v): raw(v)
        case .int32(let v): raw(v)
        case .float32(let v): raw(v.bitPattern)
        case .bool(let v): raw(UInt8(v ? 1 : 0))
        case .string(let s):
            raw(UInt64(s.utf8.count))
            out.append(contentsOf: Array(s.utf8))
        case .uint64(let v): raw(v)
        case .int64(let v): raw(v)
        case .float64(let v): raw(v.bitPattern)
        case .array(let items):
            guard let first = items.first else {
                throw FormatError.invalidArgument(reason: "metadata '\(key)': GGUF arrays may not be empty")
            }
            let element = try typeID(first, key: key)
            for item in items where try typeID(item, key: key) != element {
                throw FormatError.invalidArgument(reason: "metadata '\(key)': array elements must share one type")
            }
            raw(element)
            raw(UInt64(items.count))
            for item in items { try append(item, key: key, into: &out) }
        }
    }
}
