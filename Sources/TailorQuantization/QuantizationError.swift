// Errors of TailorQuantization: bad configurations, and missing or inconsistent 4-bit checkpoint entries.
import TailorTensor

/// What went wrong while quantizing or while reading/writing a bitsandbytes 4-bit quant state.
public enum QuantizationError: Error, CustomStringConvertible, Equatable {
    /// Block size not a power of two in 32…4096.
    case invalidBlockSize(Int)
    /// Only f32, bf16 and f16 tensors can be quantized.
    case unsupportedInputDType(DType)
    /// A tensor the module prefix needs is absent.
    case missingTensor(name: String)
    /// No `<prefix>.weight.quant_state.bitsandbytes__nf4|fp4` entry (and no unpacked fields either).
    case missingQuantState(prefix: String)
    /// More than one packed quant-state entry for one weight.
    case multipleQuantStates(keys: [String])
    /// `quant_type` (or the quant-state key suffix) is neither "nf4" nor "fp4".
    case unknownQuantType(String, source: String)
    /// A dtype name in the quant state that bitsandbytes would not write.
    case unknownDTypeName(String, field: String)
    /// The quant-state JSON is unreadable or lacks a field.
    case corruptQuantState(source: String, reason: String)
    /// A tensor has the wrong element type.
    case wrongDType(tensor: String, expected: [DType], found: DType)
    /// A tensor's element count or shape disagrees with the quant state.
    case inconsistentShape(tensor: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .invalidBlockSize(let size):
            "invalid 4-bit block size \(size); hint: use a power of two from 32 to 4096 (bitsandbytes default 64)"
        case .unsupportedInputDType(let dtype):
            "cannot quantize a \(dtype) tensor; hint: 4-bit quantization takes f32, bf16 or f16 weights"
        case .missingTensor(let name):
            "missing tensor '\(name)' in the 4-bit checkpoint"
        case .missingQuantState(let prefix):
            "no quant state for '\(prefix).weight': expected '\(prefix).weight.quant_state.bitsandbytes__nf4' "
                + "(or __fp4); hint: was this module saved by bitsandbytes Linear4bit?"
        case .multipleQuantStates(let keys):
            "more than one quant-state entry: \(keys.joined(separator: ", "))"
        case .unknownQuantType(let type, let source):
            "unknown 4-bit quant_type '\(type)' in \(source); hint: bitsandbytes writes \"nf4\" or \"fp4\""
        case .unknownDTypeName(let name, let field):
            "unknown dtype '\(name)' in quant-state field '\(field)'; hint: expected float32, bfloat16 or float16"
        case .corruptQuantState(let source, let reason):
            "corrupt quant state in \(source): \(reason)"
        case .wrongDType(let tensor, let expected, let found):
            "tensor '\(tensor)' has dtype \(found), expected \(expected.map(\.rawValue).joined(separator: " or "))"
        case .inconsistentShape(let tensor, let expected, let found):
            "tensor '\(tensor)' does not match its quant state: expected \(expected), found \(found)"
        }
    }
}
