// The tokenizer that ships with a model: tokenizer.json in a Hugging Face folder, or tokenizer.ggml.* in a GGUF.
import Foundation
import TailorFormats
import TailorTokenizers

extension LoadedModel {
    /// The model's own tokenizer (and with it the chat template).
    public func tokenizer() throws -> Tokenizer { try checkpoint.tokenizer() }

    /// The same model with a PEFT LoRA adapter attached.
    public func applyingAdapter(at directory: URL) throws -> LoadedModel {
        var weights = model.weights
        _ = try PEFTAdapter.load(from: directory, into: &weights)
        return LoadedModel(checkpoint: checkpoint, model: LlamaModel(configuration: model.configuration, weights: weights))
    }
}

extension ModelCheckpoint {
    /// The tokenizer stored with the checkpoint: tokenizer.ggml.* in a GGUF, tokenizer.json in a folder.
    ///
    /// - Throws: `ModelError.invalidInput` when the tokenizer can produce an id the model has no embedding for (an
    ///   added token past `vocab_size`): the embedding kernel would otherwise index out of bounds.
    public func tokenizer() throws -> Tokenizer {
        let checkpoint = self
        let tokenizer: Tokenizer
        if let gguf = checkpoint.gguf {
            tokenizer = try Tokenizer(gguf: GGUFTokenizerData(metadata: gguf.metadata))
        } else {
            let folder = checkpoint.sourceURL.hasDirectoryPath ? checkpoint.sourceURL : checkpoint.sourceURL.deletingLastPathComponent()
            tokenizer = try Tokenizer(directory: folder)
        }
        let vocab = checkpoint.config.vocabSize
        if tokenizer.vocabularySize > vocab {
            let offender = tokenizer.addedTokens.last { $0.id >= vocab }
            let name = offender.map { "added token \(String(reflecting: $0.content)) has id \($0.id)" } ?? "its largest id is \(tokenizer.vocabularySize - 1)"
            throw ModelError.invalidInput("\(checkpoint.sourceURL.path): the tokenizer's \(name), outside the model's vocabulary of \(vocab) ids (vocab_size in the configuration)")
        }
        return tokenizer
    }
}

extension Tokenizer {
    /// The tokenizer of a `--model` path: a GGUF file or model folder (`ModelCheckpoint.tokenizer()`), or a
    /// tokenizer-only folder (tokenizer.json, no weights), which transformers' AutoTokenizer accepts too.
    public static func load(model url: URL) throws -> Tokenizer {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue,
           fm.fileExists(atPath: url.appendingPathComponent("tokenizer.json").path),
           !fm.fileExists(atPath: url.appendingPathComponent("model.safetensors").path),
           !fm.fileExists(atPath: url.appendingPathComponent("model.safetensors.index.json").path),
           !((try? fm.contentsOfDirectory(atPath: url.path)) ?? []).contains(where: { $0.hasSuffix(".gguf") })
        {
            return try Tokenizer(directory: url)
        }
        return try ModelCheckpoint.load(from: url, eager: false).tokenizer()
    }
}

extension GGUFTokenizerData {
    /// The tokenizer.ggml.* values of a GGUF file's metadata.
    public init(metadata m: [String: GGUFValue]) {
        self.init(model: m["tokenizer.ggml.model"]?.stringValue ?? "gpt2",
                  pre: m["tokenizer.ggml.pre"]?.stringValue,
                  tokens: m["tokenizer.ggml.tokens"]?.stringArray ?? [],
                  tokenTypes: m["tokenizer.ggml.token_type"]?.intArray?.map { Int32(truncatingIfNeeded: $0) },
                  merges: m["tokenizer.ggml.merges"]?.stringArray,
                  scores: m["tokenizer.ggml.scores"]?.floatArray,
                  bosTokenID: m["tokenizer.ggml.bos_token_id"]?.intValue,
                  eosTokenID: m["tokenizer.ggml.eos_token_id"]?.intValue,
                  unknownTokenID: m["tokenizer.ggml.unknown_token_id"]?.intValue,
                  paddingTokenID: m["tokenizer.ggml.padding_token_id"]?.intValue,
                  addBOS: m["tokenizer.ggml.add_bos_token"]?.boolValue,
                  addEOS: m["tokenizer.ggml.add_eos_token"]?.boolValue,
                  addSpacePrefix: m["tokenizer.ggml.add_space_prefix"]?.boolValue,
                  chatTemplate: m["tokenizer.chat_template"]?.stringValue)
    }
}
