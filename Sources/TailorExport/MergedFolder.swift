// A merged model as a Hugging Face folder: config.json, model*.safetensors (+ index when sharded), tokenizer files,
// generation_config.json — written into a temporary folder and renamed into place.
import Foundation
import TailorFormats
import TailorModels
import TailorTensor
import TailorTokenizers

/// Writes merged weights as a folder transformers loads with `AutoModelForCausalLM.from_pretrained`.
public enum MergedFolder {
    /// The torch dtype name of `dtype` as config.json spells it.
    public static func torchName(_ dtype: DType) -> String {
        switch dtype {
        case .bf16: "bfloat16"
        case .f16: "float16"
        default: "float32"
        }
    }

    /// Parses --dtype: bf16, f16 or f32 (also bfloat16, float16, float32).
    public static func dtype(named name: String) throws -> DType {
        switch name.lowercased() {
        case "bf16", "bfloat16": return .bf16
        case "f16", "fp16", "float16": return .f16
        case "f32", "fp32", "float32": return .f32
        default: throw ExportError.unknownType(option: "--dtype", value: name, supported: ["bf16", "f16", "f32"])
        }
    }

    /// Writes `weights` (dense, no adapters, in `dtype`) with `config` (dtype set, no quantization_config: the
    /// merged model is plain) and the tokenizer of `source` into the new folder `url`. `check` runs on the complete
    /// temporary folder before it is renamed to `url` (replacing an existing folder only with `overwrite`).
    public static func write(weights: LlamaWeights, config: ModelConfig, dtype: DType, source: ModelCheckpoint,
                             maxShardBytes: Int, to url: URL, overwrite: Bool = false,
                             check: (URL) throws -> Void = { _ in }) throws {
        var config = config
        config.torchDtype = torchName(dtype)
        let tensors = LoRAMerge.stateDict(weights, configuration: config).map { ($0.0, $0.1.converted(to: dtype)) }
        let configData = try config.jsonData()
        try AtomicOutput.writeFolder(url, overwrite: overwrite) { folder in
            try SafeTensorsWriter.writeSharded(tensors, to: folder, baseName: "model", maxShardBytes: maxShardBytes)
            try configData.write(to: folder.appendingPathComponent("config.json"))
            try writeTokenizer(of: source, into: folder)
            let generation = folder.appendingPathComponent("generation_config.json")
            if !FileManager.default.fileExists(atPath: generation.path) {
                try generationConfig(config).write(to: generation)
            }
            try check(folder)
        }
    }

    /// generation_config.json as transformers derives it from config.json.
    static func generationConfig(_ config: ModelConfig) throws -> Data {
        var m: [String: Any] = ["_from_model_config": true, "output_attentions": false, "output_hidden_states": false,
                                "transformers_version": "5.24.0", "use_cache": true]
        if let bos = config.bosTokenID { m["bos_token_id"] = bos }
        if config.eosTokenIDs.count == 1 { m["eos_token_id"] = config.eosTokenIDs[0] } else if !config.eosTokenIDs.isEmpty { m["eos_token_id"] = config.eosTokenIDs }
        if let pad = config.padTokenID { m["pad_token_id"] = pad }
        return try JSONSerialization.data(withJSONObject: m, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// Copies tokenizer files from a folder base; for a GGUF base writes tokenizer.json + tokenizer_config.json
    /// from its tokenizer.ggml.* metadata. A base without any tokenizer gets none; existing files are kept.
    public static func writeTokenizer(of source: ModelCheckpoint, into folder: URL) throws {
        if let gguf = source.gguf {
            guard gguf.metadata["tokenizer.ggml.tokens"] != nil else { return }
            let data = GGUFTokenizerData(metadata: gguf.metadata)
            let files = try HFTokenizerFiles.make(from: data)
            try files.tokenizerJSON.write(to: folder.appendingPathComponent("tokenizer.json"))
            try files.tokenizerConfig.write(to: folder.appendingPathComponent("tokenizer_config.json"))
            return
        }
        let directory = source.sourceURL.hasDirectoryPath ? source.sourceURL : source.sourceURL.deletingLastPathComponent()
        for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                     "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "generation_config.json"] {
            let from = directory.appendingPathComponent(name)
            let to = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: from.path), !FileManager.default.fileExists(atPath: to.path) {
                try FileManager.default.copyItem(at: from, to: to)
            }
        }
    }
}
