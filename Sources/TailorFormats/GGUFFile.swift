// Memory-mapped GGUF v2/v3 reader (spec §4.1): header, metadata, tensor infos, aligned data section.
import Foundation
import TailorTensor

/// One tensor entry of a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    /// GGML order: `dims[0]` varies fastest (ne0).
    public var dims: [Int]
    public var type: GGMLType
    /// Offset relative to the data section.
    public var offset: Int
    /// Bytes occupied in the file.
    public var byteCount: Int
    /// Row-major (PyTorch) shape: `dims` reversed.
    public var shape: [Int] { dims.reversed() }
    public var elementCount: Int { dims.reduce(1, *) }
    /// The stored type's name, e.g. "Q4_1".
    public var typeName: String { type.name }
}

/// A validated, memory-mapped GGUF file. F32/F16/BF16 tensors are zero-copy views; quantized ones are decoded to f32.
public final class GGUFFile: @unchecked Sendable {
    public let url: URL
    /// 2 or 3.
    public let version: Int
    /// Every metadata key/value (tokenizer.ggml.*, tokenizer.chat_template, hyper-parameters…).
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor entries in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// `general.alignment` or 32.
    public let alignment: Int
    /// Absolute file offset of the data section.
    public let dataOffset: Int
    private let file: MappedFile
    private let storage: TensorStorage?
    private let index: [String: Int]

    static let magic: UInt32 = 0x4655_4747  // "GGUF" read as a little-endian u32

    /// Maps and validates the whole file; throws `FormatError` for any malformed byte, never traps.
    public init(url: URL) throws {
        self.url = url
        let path = url.path
        let mapped = try MappedFile(path: path)
        file = mapped
        var reader = ByteReader(mapped.bytes, path: path)
        let magic = try reader.read(UInt32.self, "GGUF magic")
        guard magic == Self.magic else {
            throw FormatError.corrupt(path: path, offset: 0, reason: "bad magic 0x\(String(magic, radix: 16)) (expected 'GGUF'); not a GGUF file")
        }
        let version = Int(try reader.read(UInt32.self, "version"))
        guard version == 2 || version == 3 else { throw FormatError.unsupportedVersion(path: path, version: version) }
        self.version = version
        let tensorCount = try reader.read(UInt64.self, "tensor count")
        let kvCount = try reader.read(UInt64.self, "metadata count")
        // Each iteration below consumes bytes or throws `truncated`, so a corrupt count cannot make us allocate.
        guard kvCount <= UInt64(Int.max), tensorCount <= UInt64(Int.max) else {
            throw FormatError.corrupt(path: path, offset: 8, reason: "tensor count \(tensorCount) or metadata count \(kvCount) is out of range")
        }
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for i in 0..<Int(kvCount) {
            let at = reader.offset
            let key = try GGUFValue.readString(from: &reader, what: "metadata key \(i)")
            let type = try reader.read(UInt32.self, "type of \(key)")
            let value = try GGUFValue.read(type: type, from: &reader, key: key)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw FormatError.corrupt(path: path, offset: at, reason: "metadata key '\(key)' occurs twice")
            }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys
        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard let a = value.intValue, a > 0, a & (a - 1) == 0 else {
                throw FormatError.invalidConfig(path: path, field: "general.alignment", reason: "must be a power of two, got \(value)")
            }
            alignment = a
        }
        self.alignment = alignment
        var infos: [GGUFTensorInfo] = []
        for i in 0..<Int(tensorCount) {
            infos.append(try Self.readTensorInfo(&reader, number: i))
        }
        let headerEnd = reader.offset
        dataOffset = headerEnd + (alignment - headerEnd % alignment) % alignment
        try Self.validateData(infos, dataOffset: dataOffset, fileSize: mapped.count, alignment: alignment, path: path)
        tensorInfos = infos
        var index: [String: Int] = [:]
        for (i, info) in infos.enumerated() {
            guard index.updateValue(i, forKey: info.name) == nil else { throw FormatError.duplicateTensor(path: path, tensor: info.name) }
        }
        self.index = index
        storage = mapped.bytes.baseAddress.map { TensorStorage(borrowing: $0, byteCount: mapped.count, owner: mapped) }
    }

    private static func readTensorInfo(_ reader: inout ByteReader, number: Int) throws(FormatError) -> GGUFTensorInfo {
        let at = reader.offset
        let name = try GGUFValue.readString(from: &reader, what: "name of tensor \(number)")
        let rank = try reader.read(UInt32.self, "rank of tensor \(name)")
        guard (1...4).contains(rank) else {
            throw FormatError.badTensor(path: reader.path, tensor: name, reason: "has \(rank) dimensions at offset \(at) (1 to 4 allowed)")
        }
        var dims: [Int] = []
        for _ in 0..<Int(rank) {
            let d = try reader.read(UInt64.self, "dimension of tensor \(name)")
            guard d <= UInt64(Int32.max) else { throw FormatError.badTensor(path: reader.path, tensor: name, reason: "dimension \(d) is too large") }
            dims.append(Int(d))
        }
        let typeID = try reader.read(UInt32.self, "type of tensor \(name)")
        guard let type = GGMLType(rawValue: typeID) else {
            throw FormatError.unsupportedType(path: reader.path, tensor: name, type: "ggml type id \(typeID)")
        }
        let offset = try reader.read(UInt64.self, "offset of tensor \(name)")
        guard let byteCount = type.byteCount(dims: dims) else {
            throw FormatError.badTensor(path: reader.path, tensor: name,
                                        reason: "dims \(dims) are not whole \(type) blocks of \(type.blockLayout.elements) or overflow")
        }
        guard offset <= UInt64(Int.max / 2) else {
            throw FormatError.badTensor(path: reader.path, tensor: name, reason: "data offset \(offset) is out of range")
        }
        return GGUFTensorInfo(name: name, dims: dims, type: type, offset: Int(offset), byteCount: byteCount)
    }

    /// Each tensor's data must be aligned, inside the file and disjoint from the others.
    private static func validateData(_ infos: [GGUFTensorInfo], dataOffset: Int, fileSize: Int, alignment: Int, path: String) throws(FormatError) {
        for info in infos {
            guard info.offset % alignment == 0 else {
                throw FormatError.badTensor(path: path, tensor: info.name, reason: "data offset \(info.offset) is not a multiple of the alignment \(alignment)")
            }
            guard dataOffset + info.offset <= fileSize else {
                throw FormatError.badTensor(path: path, tensor: info.name,
                                            reason: "data offset \(info.offset) lies beyond the end of the file (\(fileSize) bytes)")
            }
            let end = dataOffset + info.offset + info.byteCount
            guard end <= fileSize else {
                throw FormatError.truncated(path: path, offset: dataOffset + info.offset, needed: info.byteCount,
                                            available: max(0, fileSize - dataOffset - info.offset), what: "data of tensor '\(info.name)'")
            }
        }
        let sorted = infos.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset && b.byteCount > 0 {
            throw FormatError.badTensor(path: path, tensor: b.name,
                                        reason: "data at offset \(b.offset) overlaps tensor '\(a.name)' (\(a.offset)..<\(a.offset + a.byteCount))")
        }
    }

    /// The entry of `name` (GGUF naming), or nil.
    public func info(_ name: String) -> GGUFTensorInfo? { index[name].map { tensorInfos[$0] } }

    /// `general.architecture`, e.g. "llama".
    public var architecture: String? { metadata[GGUFKey.architecture]?.stringValue }

    /// The raw bytes of `name` (valid while this file is alive).
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = info(name) else { throw FormatError.missingTensor(path: url.path, tensor: name) }
        let start = dataOffset + info.offset
        return try body(UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + info.byteCount)]))
    }

    /// The tensor `name` with its row-major shape: F32, F16, BF16, I32, I64 and F64 as views of the mapping,
    /// Q8_0, Q4_0, Q4_1, Q4_K and Q6_K decoded to f32. Other types throw `FormatError.unsupportedType`.
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw FormatError.missingTensor(path: url.path, tensor: name) }
        let view: DType?
        switch info.type {
        case .F32: view = .f32
        case .F16: view = .f16
        case .BF16: view = .bf16
        case .I32: view = .i32
        case .I64: view = .i64
        case .F64: view = .f64
        case .Q8_0, .Q4_0, .Q4_1, .Q4_K, .Q6_K: view = nil
        default: throw FormatError.unsupportedType(path: url.path, tensor: name, type: info.type.name)
        }
        let start = dataOffset + info.offset
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + info.byteCount)])
        if let dtype = view {
            if let storage, start % dtype.byteSize == 0 {
                return Tensor(shape: info.shape, dtype: dtype, storage: storage, byteOffset: start)
            }
            return Tensor(shape: info.shape, dtype: dtype, copying: bytes)
        }
        var out = Tensor(uninitialized: info.shape, dtype: .f32)
        try out.withUnsafeMutableFloats { try GGMLDequantize.dequantize(info.type, bytes, into: $0) }
        return out
    }
}
