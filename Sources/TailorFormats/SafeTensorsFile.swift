// Memory-mapped safetensors reader: tensors are zero-copy views into the mapping.
import Foundation
import TailorTensor

/// A validated, memory-mapped safetensors file.
///
/// `tensor(_:)` returns views that borrow the mapping (no copy) when the data is aligned for its dtype; the mapping
/// stays alive as long as any such tensor does.
public final class SafeTensorsFile: @unchecked Sendable {
    public let url: URL
    /// Tensor names in data-offset order.
    public let names: [String]
    /// The `__metadata__` object (empty when absent).
    public let metadata: [String: String]
    /// Entries in data-offset order.
    public let infos: [SafeTensorsTensorInfo]
    /// Offset of the data buffer in the file (8 + header length).
    public let dataStart: Int
    private let file: MappedFile
    private let storage: TensorStorage?
    private let index: [String: Int]

    /// Maps and validates the file; throws `FormatError` on any malformed byte.
    public init(url: URL) throws {
        self.url = url
        let mapped = try MappedFile(path: url.path)
        file = mapped
        let header = try SafeTensorsHeader(file: mapped.bytes, path: url.path)
        infos = header.tensors
        names = header.tensors.map(\.name)
        metadata = header.metadata
        dataStart = header.dataStart
        index = Dictionary(header.tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        storage = mapped.bytes.baseAddress.map { TensorStorage(borrowing: $0, byteCount: mapped.count, owner: mapped) }
    }

    /// The header entry of `name`, or nil.
    public func info(_ name: String) -> SafeTensorsTensorInfo? {
        index[name].map { infos[$0] }
    }

    /// The tensor `name`, viewing the mapped bytes (copied only when misaligned for its dtype).
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw FormatError.missingTensor(path: url.path, tensor: name) }
        guard let dtype = info.dtype.tensorDType else {
            throw FormatError.unsupportedType(path: url.path, tensor: name, type: info.dtype.rawValue)
        }
        guard let storage else { throw FormatError.missingTensor(path: url.path, tensor: name) }
        let offset = dataStart + info.dataOffsets.lowerBound
        if offset % dtype.byteSize == 0 {
            return Tensor(shape: info.shape, dtype: dtype, storage: storage, byteOffset: offset)
        }
        // Unaligned typed loads are undefined behaviour in Swift; copy into aligned storage instead.
        return Tensor(shape: info.shape, dtype: dtype,
                      copying: UnsafeRawBufferPointer(start: storage.pointer + offset, count: info.byteCount))
    }

    /// The raw bytes of `name` (valid while this file is alive).
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = info(name) else { throw FormatError.missingTensor(path: url.path, tensor: name) }
        let start = dataStart + info.dataOffsets.lowerBound
        return try body(UnsafeRawBufferPointer(rebasing: file.bytes[start..<(start + info.byteCount)]))
    }
}
