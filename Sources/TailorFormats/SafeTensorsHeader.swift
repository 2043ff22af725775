// The safetensors header: dtype table, per-tensor entries and the validation rules of the Rust reader (spec §3.1).
import TailorTensor
import TailorText

/// A safetensors dtype string. Case order is the Rust writer's sort order (spec §3.2): tensors are written by
/// dtype descending, then by name.
public enum SafeTensorsDType: String, CaseIterable, Sendable, Comparable {
    case BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ
    case I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64

    /// Bits per element (sub-byte types pack; a tensor must still total whole bytes).
    public var bitSize: Int {
        switch self {
        case .F4: 4
        case .F6_E2M3, .F6_E3M2: 6
        case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3, .F8_E8M0, .F8_E4M3FNUZ, .F8_E5M2FNUZ: 8
        case .I16, .U16, .F16, .BF16: 16
        case .I32, .U32, .F32: 32
        case .C64, .F64, .I64, .U64: 64
        }
    }

    /// The Tailor storage type for this dtype, or nil when `Tensor` cannot hold it.
    public var tensorDType: DType? {
        switch self {
        case .F32: .f32
        case .F16: .f16
        case .BF16: .bf16
        case .F64: .f64
        case .I32: .i32
        case .I64: .i64
        case .U8: .u8
        default: nil
        }
    }

    /// The safetensors name of a Tailor dtype.
    public init(_ dtype: DType) {
        switch dtype {
        case .f32: self = .F32
        case .f16: self = .F16
        case .bf16: self = .BF16
        case .f64: self = .F64
        case .i32: self = .I32
        case .i64: self = .I64
        case .u8: self = .U8
        }
    }

    private var rank: Int { SafeTensorsDType.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: SafeTensorsDType, b: SafeTensorsDType) -> Bool { a.rank < b.rank }
}

/// One tensor entry of a safetensors header.
public struct SafeTensorsTensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: SafeTensorsDType
    /// Row-major shape; `[]` is a scalar.
    public var shape: [Int]
    /// Byte range relative to the start of the data buffer.
    public var dataOffsets: Range<Int>
    public var byteCount: Int { dataOffsets.count }
    public var elementCount: Int { shape.reduce(1, *) }
}

/// The parsed and validated header.
struct SafeTensorsHeader {
    /// Entries sorted by data offset.
    var tensors: [SafeTensorsTensorInfo]
    var metadata: [String: String]
    /// Bytes before the data buffer: 8 + header length.
    var dataStart: Int

    static let maxHeaderLength = 100_000_000

    /// Validates `bytes` as a complete safetensors file: header length, JSON, entries, contiguity, file size.
    init(file bytes: UnsafeRawBufferPointer, path: String) throws(FormatError) {
        var reader = ByteReader(bytes, path: path)
        let length = try reader.read(UInt64.self, "header length")
        guard length >= 2, length <= UInt64(Self.maxHeaderLength) else {
            throw FormatError.corrupt(path: path, offset: 0,
                                      reason: "header length \(length) is outside 2...\(Self.maxHeaderLength)")
        }
        let headerLength = Int(length)
        guard headerLength <= reader.remaining else {
            throw FormatError.corrupt(path: path, offset: 0,
                                      reason: "header length \(headerLength) exceeds the \(reader.remaining) bytes after it")
        }
        let text = try reader.readBytes(headerLength, "header")
        guard text[0] == UInt8(ascii: "{") else { throw FormatError.corrupt(path: path, offset: 8, reason: "header does not start with '{'") }
        let json: JSONValue
        do { json = try JSONValue.parse(text) } catch {
            throw FormatError.corrupt(path: path, offset: 8 + error.offset, reason: "header is not valid JSON: \(error.reason)")
        }
        guard let members = json.members else { throw FormatError.corrupt(path: path, offset: 8, reason: "header is not a JSON object") }
        dataStart = 8 + headerLength
        let dataSize = bytes.count - dataStart
        metadata = [:]
        tensors = []
        var seen = Set<String>()
        for member in members {
            guard seen.insert(member.key).inserted else {
                if member.key == "__metadata__" { throw FormatError.corrupt(path: path, offset: 8, reason: "__metadata__ occurs twice") }
                throw FormatError.duplicateTensor(path: path, tensor: member.key)
            }
            if member.key == "__metadata__" {
                guard let entries = member.value.members else {
                    throw FormatError.corrupt(path: path, offset: 8, reason: "__metadata__ is not an object")
                }
                for entry in entries {
                    guard let value = entry.value.stringValue else {
                        throw FormatError.corrupt(path: path, offset: 8, reason: "__metadata__['\(entry.key)'] is not a string")
                    }
                    metadata[entry.key] = value
                }
                continue
            }
            tensors.append(try Self.entry(member, path: path, dataSize: dataSize))
        }
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        // Every data byte belongs to exactly one tensor: offsets must tile 0..<dataSize.
        var end = 0
        for info in tensors {
            let begin = info.dataOffsets.lowerBound
            if begin > end {
                throw FormatError.badTensor(path: path, tensor: info.name,
                                            reason: "hole: data starts at offset \(begin) but the previous tensor ends at \(end)")
            }
            if begin < end {
                throw FormatError.badTensor(path: path, tensor: info.name,
                                            reason: "overlap: data offsets \(begin)..<\(info.dataOffsets.upperBound) overlap the previous tensor ending at \(end)")
            }
            end = info.dataOffsets.upperBound
        }
        if end != dataSize {
            throw FormatError.corrupt(path: path, offset: dataStart + end,
                                      reason: "\(dataSize - end) trailing bytes after the last tensor (data buffer is \(dataSize) bytes)")
        }
    }

    private static func entry(_ member: JSONMember, path: String, dataSize: Int) throws(FormatError) -> SafeTensorsTensorInfo {
        let name = member.key
        func bad(_ reason: String) -> FormatError { .badTensor(path: path, tensor: name, reason: reason) }
        guard member.value.members != nil else { throw bad("header entry is not an object") }
        guard let dtypeName = member.value["dtype"]?.stringValue else { throw bad("missing dtype") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else { throw bad("unknown dtype '\(dtypeName)'") }
        guard let shapeItems = member.value["shape"]?.arrayValue else { throw bad("missing shape") }
        var shape: [Int] = []
        var elements = 1
        for item in shapeItems {
            guard case .int(let d) = item, d >= 0 else { throw bad("shape \(shapeItems) has a non-integer or negative dimension") }
            shape.append(d)
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(shape) overflows") }
            elements = product
        }
        guard let offsets = member.value["data_offsets"]?.arrayValue, offsets.count == 2,
              case .int(let begin) = offsets[0], case .int(let end) = offsets[1] else {
            throw bad("data_offsets must be two integers")
        }
        guard begin >= 0, begin <= end else { throw bad("data_offsets [\(begin), \(end)] are not ordered") }
        guard end <= dataSize else { throw bad("data_offsets end \(end) is beyond the data buffer of \(dataSize) bytes") }
        let (bits, overflow) = elements.multipliedReportingOverflow(by: dtype.bitSize)
        guard !overflow, bits % 8 == 0 else { throw bad("\(elements) × \(dtype.bitSize) bits is not a whole number of bytes") }
        guard end - begin == bits / 8 else {
            throw bad("data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(shape) of \(dtype) needs \(bits / 8)")
        }
        return SafeTensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }
}
