// A model with its tokenizer and chat template: text in, text out.
import Foundation
import TailorChat
import TailorTensor
import TailorTokenizers

/// What `generate`, `chat` and `score` need: the decoder, its tokenizer and the chat template to apply.
public struct ChatModel: Sendable {
    public var model: LlamaModel
    public let tokenizer: Tokenizer
    /// The template from the model (tokenizer_config.json / GGUF) or the one the user chose; nil when neither has one.
    public let template: ChatTemplate?

    /// `templateChoice`: nil for the model's own template, a built-in family name ("chatml", "llama3", …) or a
    /// .jinja / tokenizer_config.json file.
    public init(loaded: LoadedModel, templateChoice: String? = nil) throws {
        model = loaded.model
        tokenizer = try loaded.tokenizer()
        if let choice = templateChoice {
            template = FileManager.default.fileExists(atPath: choice)
                ? try ChatTemplate(contentsOf: URL(fileURLWithPath: choice)) : try ChatTemplate.builtIn(named: choice)
        } else {
            template = try tokenizer.chatTemplate.map { try ChatTemplate(source: $0) }
        }
    }

    /// The conversation rendered by the chat template and tokenized as transformers does (special tokens in the
    /// text become their ids; no BOS is added on top of what the template writes).
    public func promptIDs(for conversation: [ChatMessage], addGenerationPrompt: Bool = true) throws -> [Int32] {
        guard let template else {
            throw ModelError.invalidInput("the model has no chat template; choose one with --template (\(ChatTemplate.builtInNames.joined(separator: ", "))) or use --raw")
        }
        let text = try template.render(conversation: conversation, addGenerationPrompt: addGenerationPrompt,
                                       bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
        return tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
    }

    /// Plain text tokenized with the tokenizer's own special tokens (BOS where the model adds one).
    public func rawIDs(for text: String) -> [Int32] { tokenizer.encode(text, addSpecialTokens: true).map(Int32.init) }

    /// Tokens that end a reply: EOS and the end-of-turn markers the vocabulary has.
    public var stopTokens: Set<Int32> {
        var ids = Set<Int32>()
        if let eos = tokenizer.eosTokenID { ids.insert(Int32(eos)) }
        for marker in ["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>"] {
            if let id = tokenizer.id(for: marker), tokenizer.specialTokenIDs.contains(id) { ids.insert(Int32(id)) }
        }
        return ids
    }
}
