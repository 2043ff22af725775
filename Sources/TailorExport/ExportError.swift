// The one error type of TailorExport: every case names the file, tensor or option at fault, with a hint.
import Foundation

/// Errors raised while merging adapters or exporting a model.
public enum ExportError: Error, CustomStringConvertible, Equatable {
    /// An adapter folder lacks adapter_config.json or adapter_model.safetensors.
    case missingAdapterFile(path: String)
    /// An adapter does not fit the model (another architecture or size).
    case adapterMismatch(adapter: String, reason: String)
    /// An unknown export type or dtype name.
    case unknownType(option: String, value: String, supported: [String])
    /// Model-soup weights that do not match the adapters.
    case invalidWeights(String)
    /// The output already exists and --force was not given.
    case outputExists(path: String, isFolder: Bool)
    /// The output cannot be written (folder not writable, exists and is a file…).
    case unwritableOutput(path: String, reason: String)
    /// The model cannot be exported in the requested form.
    case unsupported(String)
    /// The exported model read back differs from what was written beyond the type's precision.
    case verificationFailed(String)

    public var description: String {
        switch self {
        case .missingAdapterFile(let path):
            "\(path): adapter file missing (hint: a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors)"
        case .adapterMismatch(let adapter, let reason):
            "\(adapter): adapter does not fit the model: \(reason) (hint: was it trained on another base model?)"
        case .unknownType(let option, let value, let supported):
            "\(option) '\(value)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case .invalidWeights(let reason):
            "invalid --weights: \(reason)"
        case .outputExists(let path, let isFolder):
            "\(path): the output \(isFolder ? "folder exists and is not empty" : "file exists"); it is not overwritten "
                + "(hint: pass --force to replace it once the new output is complete, or choose another --out)"
        case .unwritableOutput(let path, let reason):
            "\(path): cannot write output: \(reason)"
        case .unsupported(let reason):
            "cannot export: \(reason)"
        case .verificationFailed(let reason):
            "export check failed: \(reason)"
        }
    }
}
