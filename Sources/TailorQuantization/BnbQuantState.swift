// The non-tensor part of a bitsandbytes 4-bit QuantState: the JSON blob saved as
// `<prefix>.weight.quant_state.bitsandbytes__nf4`, written byte for byte as bnb's `pack_dict_to_tensor` does.
import Foundation
import TailorTensor
import TailorText

/// One non-tensor quant-state value (bnb's "unpacked" form stores them as separate state-dict entries).
public enum QuantStateField: Sendable, Equatable, Decodable {
    case string(String)
    case integer(Int)
    case number(Double)
    case integers([Int])
    case null

    /// Decodes a JSON scalar or integer list (integers before floats, so `64` stays an integer).
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Int.self) { self = .integer(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        self = .integers(try container.decode([Int].self))
    }
}

/// Quant type, block size, original dtype, shape and (when double-quantized) the nested settings of a 4-bit weight.
public struct BnbQuantState: Sendable, Equatable {
    /// Nested (double-quantization) settings.
    public struct Nested: Sendable, Equatable {
        /// Codes per nested block (256).
        public var blockSize: Int
        /// The dtype of `nested_absmax` (always f32 in bitsandbytes).
        public var dtype: DType
        /// The mean subtracted from the absmax values before 8-bit quantization.
        public var offset: Float

        /// bnb's only nested layout: blocks of 256, f32 nested absmax.
        public init(blockSize: Int = 256, dtype: DType = .f32, offset: Float) {
            self.blockSize = blockSize
            self.dtype = dtype
            self.offset = offset
        }
    }

    /// `quant_type`.
    public var quantType: FourBitType
    /// `blocksize`: elements per 4-bit block.
    public var blockSize: Int
    /// The weight's dtype before quantization.
    public var dtype: DType
    /// The weight's shape, usually `[out, in]`.
    public var shape: [Int]
    /// Present when the block scales are double-quantized.
    public var nested: Nested?

    /// A state with the given fields.
    public init(quantType: FourBitType, blockSize: Int, dtype: DType, shape: [Int], nested: Nested? = nil) {
        self.quantType = quantType
        self.blockSize = blockSize
        self.dtype = dtype
        self.shape = shape
        self.nested = nested
    }

    /// The state-dict key suffix (after `<prefix>.weight.`) under which the packed JSON is stored.
    public var packedKey: String { "quant_state.bitsandbytes__\(quantType.rawValue)" }

    /// The JSON exactly as bnb writes it: Python `json.dumps` separators, keys in bnb's order, the offset as
    /// Python's float repr of the f32 widened to f64.
    public var json: String {
        var fields = [
            "\"quant_type\": \"\(quantType.rawValue)\"",
            "\"blocksize\": \(blockSize)",
            "\"dtype\": \"\(Self.torchName(dtype))\"",
            "\"shape\": [\(shape.map(String.init).joined(separator: ", "))]",
        ]
        if let nested {
            fields.append("\"nested_blocksize\": \(nested.blockSize)")
            fields.append("\"nested_dtype\": \"\(Self.torchName(nested.dtype))\"")
            fields.append("\"nested_offset\": \(pythonFloatRepr(Double(nested.offset)))")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// Parses the packed blob (UTF-8 JSON bytes); `source` names the entry in errors.
    public init(packed bytes: [UInt8], source: String) throws {
        let object: [String: QuantStateField]
        do {
            object = try JSONDecoder().decode([String: QuantStateField].self, from: Data(bytes))
        } catch {
            throw QuantizationError.corruptQuantState(
                source: source, reason: "not a JSON object of quant-state fields (\(error))")
        }
        try self.init(unpacked: object, source: source)
    }

    /// Builds the state from separate fields. Keys may carry prefixes (`lm.weight.blocksize`); like bnb, only the
    /// part after the last "." counts.
    public init(unpacked fields: [String: QuantStateField], source: String) throws {
        var byName: [String: QuantStateField] = [:]
        for (key, value) in fields { byName[String(key.split(separator: ".").last ?? Substring(key))] = value }
        func string(_ name: String) throws -> String {
            guard case .string(let value)? = byName[name] else { throw Self.missing(name, source) }
            return value
        }
        func integer(_ name: String) throws -> Int {
            switch byName[name] {
            case .integer(let value)?: return value
            case .number(let value)? where value == value.rounded(): return Int(value)
            default: throw Self.missing(name, source)
            }
        }
        let typeName = try string("quant_type")
        guard let type = FourBitType(rawValue: typeName) else {
            throw QuantizationError.unknownQuantType(typeName, source: source)
        }
        // Fields are checked in bnb's key order, so an error names the first bad one.
        let blockSize = try integer("blocksize")
        let dtype = try Self.dtype(named: try string("dtype"), field: "dtype")
        let shape: [Int]
        switch byName["shape"] {
        case .integers(let values)?: shape = values
        case .integer(let value)?: shape = [value]
        default: throw Self.missing("shape", source)
        }
        self.init(quantType: type, blockSize: blockSize, dtype: dtype, shape: shape)
        guard byName["nested_blocksize"] != nil || byName["nested_offset"] != nil else { return }
        let offset: Double
        switch byName["nested_offset"] {
        case .number(let value)?: offset = value
        case .integer(let value)?: offset = Double(value)
        default: throw Self.missing("nested_offset", source)
        }
        let nestedDType = try Self.dtype(named: try string("nested_dtype"), field: "nested_dtype")
        guard nestedDType == .f32 else {
            throw QuantizationError.corruptQuantState(
                source: source, reason: "nested_dtype \(Self.torchName(nestedDType)) is not supported (bnb writes float32)")
        }
        nested = Nested(blockSize: try integer("nested_blocksize"), dtype: nestedDType, offset: Float(offset))
    }

    private static func missing(_ field: String, _ source: String) -> QuantizationError {
        .corruptQuantState(source: source, reason: "missing or mistyped field '\(field)'")
    }

    /// torch's dtype name as bnb writes it (`str(torch.bfloat16)` minus "torch.").
    public static func torchName(_ dtype: DType) -> String {
        switch dtype {
        case .f32: "float32"
        case .f16: "float16"
        case .bf16: "bfloat16"
        case .f64: "float64"
        case .i32: "int32"
        case .i64: "int64"
        case .u8: "uint8"
        }
    }

    /// The floating dtype a bnb name denotes (float32, bfloat16, float16).
    public static func dtype(named name: String, field: String) throws -> DType {
        switch name {
        case "float32": .f32
        case "bfloat16": .bf16
        case "float16": .f16
        default: throw QuantizationError.unknownDTypeName(name, field: field)
        }
    }
}
