// The `quantization_config` object transformers writes into config.json for a bitsandbytes 4-bit model.
import Foundation
import TailorTensor
import TailorText

/// transformers' `BitsAndBytesConfig` as serialised in `config.json["quantization_config"]`.
///
/// Decoding validates `quant_method` and `bnb_4bit_quant_type`; encoding writes every key transformers writes
/// (with `llm_int8_skip_modules: null`). `pythonJSON` renders the object byte for byte as transformers' config.json
/// (keys sorted, Python separators).
public struct BitsAndBytesConfig: Sendable, Equatable, Codable {
    /// `quant_method`: always "bitsandbytes" (decoding rejects anything else).
    public var quantMethod: String
    /// `load_in_4bit` (and `_load_in_4bit`).
    public var loadIn4bit: Bool
    /// `load_in_8bit` (and `_load_in_8bit`).
    public var loadIn8bit: Bool
    /// `bnb_4bit_quant_type` (transformers' default is fp4; QLoRA uses nf4).
    public var quantType: FourBitType
    /// `bnb_4bit_use_double_quant`.
    public var useDoubleQuant: Bool
    /// torch dtype name of the compute dtype ("bfloat16", "float16", "float32").
    public var computeDType: String
    /// torch dtype name of the packed storage ("uint8").
    public var quantStorage: String
    /// `llm_int8_threshold` (8-bit only; kept for round trips).
    public var llmInt8Threshold: Double
    /// `llm_int8_skip_modules`: modules left unquantized (null = transformers' default: lm_head).
    public var llmInt8SkipModules: [String]?
    /// `llm_int8_enable_fp32_cpu_offload`.
    public var llmInt8EnableFP32CPUOffload: Bool
    /// `llm_int8_has_fp16_weight`.
    public var llmInt8HasFP16Weight: Bool

    /// QLoRA defaults: NF4, double quantization, bf16 compute, uint8 storage.
    public init(quantType: FourBitType = .nf4, useDoubleQuant: Bool = true, computeDType: String = "bfloat16") {
        quantMethod = "bitsandbytes"
        loadIn4bit = true
        loadIn8bit = false
        self.quantType = quantType
        self.useDoubleQuant = useDoubleQuant
        self.computeDType = computeDType
        quantStorage = "uint8"
        llmInt8Threshold = 6.0
        llmInt8SkipModules = nil
        llmInt8EnableFP32CPUOffload = false
        llmInt8HasFP16Weight = false
    }

    /// The config describing `quantizer` (transformers has no block-size key: it always uses 64).
    public init(quantizer: FourBitQuantizer, computeDType: String = "bfloat16") {
        self.init(quantType: quantizer.type, useDoubleQuant: quantizer.doubleQuant, computeDType: computeDType)
    }

    /// The quantizer this config asks for (block size 64, as transformers uses).
    public var quantizer: FourBitQuantizer { FourBitQuantizer(type: quantType, blockSize: 64, doubleQuant: useDoubleQuant) }

    /// The compute dtype as a `DType`, when it names one.
    public var computeTensorDType: DType? { try? BnbQuantState.dtype(named: computeDType, field: "bnb_4bit_compute_dtype") }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case loadIn4bitPrivate = "_load_in_4bit"
        case loadIn8bitPrivate = "_load_in_8bit"
        case computeDType = "bnb_4bit_compute_dtype"
        case quantStorage = "bnb_4bit_quant_storage"
        case quantType = "bnb_4bit_quant_type"
        case useDoubleQuant = "bnb_4bit_use_double_quant"
        case llmInt8EnableFP32CPUOffload = "llm_int8_enable_fp32_cpu_offload"
        case llmInt8HasFP16Weight = "llm_int8_has_fp16_weight"
        case llmInt8SkipModules = "llm_int8_skip_modules"
        case llmInt8Threshold = "llm_int8_threshold"
        case loadIn4bit = "load_in_4bit"
        case loadIn8bit = "load_in_8bit"
        case quantMethod = "quant_method"
    }

    /// Decodes and validates `quant_method` and `bnb_4bit_quant_type`; missing keys take transformers' defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        quantMethod = try c.decode(String.self, forKey: .quantMethod)
        guard quantMethod == "bitsandbytes" else {
            throw QuantizationError.corruptQuantState(
                source: "quantization_config.quant_method", reason: "'\(quantMethod)' is not bitsandbytes")
        }
        // Older configs have only the public keys, newer ones both; they agree.
        loadIn4bit = try c.decodeIfPresent(Bool.self, forKey: .loadIn4bit)
            ?? c.decodeIfPresent(Bool.self, forKey: .loadIn4bitPrivate) ?? false
        loadIn8bit = try c.decodeIfPresent(Bool.self, forKey: .loadIn8bit)
            ?? c.decodeIfPresent(Bool.self, forKey: .loadIn8bitPrivate) ?? false
        let typeName = try c.decodeIfPresent(String.self, forKey: .quantType) ?? "fp4"
        guard let type = FourBitType(rawValue: typeName) else {
            throw QuantizationError.unknownQuantType(typeName, source: "quantization_config.bnb_4bit_quant_type")
        }
        quantType = type
        useDoubleQuant = try c.decodeIfPresent(Bool.self, forKey: .useDoubleQuant) ?? false
        computeDType = try c.decodeIfPresent(String.self, forKey: .computeDType) ?? "float32"
        quantStorage = try c.decodeIfPresent(String.self, forKey: .quantStorage) ?? "uint8"
        llmInt8Threshold = try c.decodeIfPresent(Double.self, forKey: .llmInt8Threshold) ?? 6.0
        llmInt8SkipModules = try c.decodeIfPresent([String].self, forKey: .llmInt8SkipModules)
        llmInt8EnableFP32CPUOffload = try c.decodeIfPresent(Bool.self, forKey: .llmInt8EnableFP32CPUOffload) ?? false
        llmInt8HasFP16Weight = try c.decodeIfPresent(Bool.self, forKey: .llmInt8HasFP16Weight) ?? false
    }

    /// Writes every key transformers writes, `llm_int8_skip_modules` as an explicit null when unset.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(loadIn4bit, forKey: .loadIn4bitPrivate)
        try c.encode(loadIn8bit, forKey: .loadIn8bitPrivate)
        try c.encode(computeDType, forKey: .computeDType)
        try c.encode(quantStorage, forKey: .quantStorage)
        try c.encode(quantType, forKey: .quantType)
        try c.encode(useDoubleQuant, forKey: .useDoubleQuant)
        try c.encode(llmInt8EnableFP32CPUOffload, forKey: .llmInt8EnableFP32CPUOffload)
        try c.encode(llmInt8HasFP16Weight, forKey: .llmInt8HasFP16Weight)
        if let skip = llmInt8SkipModules { try c.encode(skip, forKey: .llmInt8SkipModules) } else {
            try c.encodeNil(forKey: .llmInt8SkipModules)
        }
        try c.encode(llmInt8Threshold, forKey: .llmInt8Threshold)
        try c.encode(loadIn4bit, forKey: .loadIn4bit)
        try c.encode(loadIn8bit, forKey: .loadIn8bit)
        try c.encode(quantMethod, forKey: .quantMethod)
    }

    /// The object as transformers' `json.dumps(indent=2, sort_keys=True)` renders it at nesting `level`
    /// (1 inside config.json): keys sorted, `": "` separators, the closing brace at the parent's indentation.
    public func pythonJSON(indent: Int = 2, level: Int = 1) -> String {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let skip = llmInt8SkipModules.map { "[" + $0.map(quoted).joined(separator: ", ") + "]" } ?? "null"
        let inner = String(repeating: " ", count: indent * (level + 1))
        let outer = String(repeating: " ", count: indent * level)
        let pairs: [(CodingKeys, String)] = [
            (.loadIn4bitPrivate, "\(loadIn4bit)"), (.loadIn8bitPrivate, "\(loadIn8bit)"),
            (.computeDType, quoted(computeDType)), (.quantStorage, quoted(quantStorage)),
            (.quantType, quoted(quantType.rawValue)), (.useDoubleQuant, "\(useDoubleQuant)"),
            (.llmInt8EnableFP32CPUOffload, "\(llmInt8EnableFP32CPUOffload)"),
            (.llmInt8HasFP16Weight, "\(llmInt8HasFP16Weight)"), (.llmInt8SkipModules, skip),
            (.llmInt8Threshold, pythonFloatRepr(llmInt8Threshold)), (.loadIn4bit, "\(loadIn4bit)"),
            (.loadIn8bit, "\(loadIn8bit)"), (.quantMethod, quoted(quantMethod)),
        ]
        let body = pairs.map { "\(inner)\"\($0.0.rawValue)\": \($0.1)" }.joined(separator: ",\n")
        return "{\n" + body + "\n" + outer + "}"
    }
}
