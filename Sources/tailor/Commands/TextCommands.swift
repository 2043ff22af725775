// Text in, text out: `tailor tokenize`, `tailor template`, `tailor generate`, `tailor chat`.
import ArgumentParser
import Foundation
import TailorChat
import TailorKernels
import TailorModels
import TailorTokenizers

/// Options shared by commands that run a chat model.
struct ChatModelOptions: ParsableArguments {
    @OptionGroup var model: ModelOption
    @Option(help: "A LoRA adapter folder (PEFT format) to apply.") var adapter: String?
    @Option(help: "Chat template: a built-in name (\(ChatTemplate.builtInNames.joined(separator: ", "))) or a .jinja / tokenizer_config.json file. Default: the model's own.")
    var template: String?
    @OptionGroup var precision: InferencePrecisionOption

    /// The model with the adapter applied, in the chosen precision.
    func loadModel() throws -> LoadedModel {
        var loaded = try model.load()
        if let adapter { loaded = try loaded.applyingAdapter(at: URL(fileURLWithPath: adapter)) }
        loaded.storeForInference(try precision.precision())
        return loaded
    }

    /// The model with its tokenizer and chat template.
    func load() throws -> ChatModel { try ChatModel(loaded: loadModel(), templateChoice: template) }
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids and pieces of a text.")
    @OptionGroup var model: ModelOption
    @Option(help: "The text to tokenize.") var text: String
    @Flag(help: "Do not add the tokenizer's special tokens (BOS/EOS).") var noSpecialTokens = false
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable { var ids: [Int]; var pieces: [String] }

    func run() throws {
        let tokenizer = try model.tokenizer()
        let ids = tokenizer.encode(text, addSpecialTokens: !noSpecialTokens)
        let report = Report(ids: ids, pieces: ids.map { tokenizer.tokenString(for: $0) ?? "?" })
        if json { return try printJSON(report) }
        var table = TextTable("index", "id", "piece")
        for (i, id) in ids.enumerated() { table.add("\(i)", "\(id)", report.pieces[i].debugDescription) }
        print(table.render())
        print("\(ids.count) tokens")
    }
}

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "template", abstract: "Render a conversation with a chat template.")
    @OptionGroup var model: ModelOption
    @Option(help: "A JSON file with a list of {\"role\", \"content\"} messages (or {\"messages\": [...]}).") var messages: String
    @Option(help: "A built-in template name or a template file instead of the model's own.") var template: String?
    @Option(help: "A JSON file with a list of tools (function schemas) the template shows, as transformers' apply_chat_template(tools=). Default: the messages file's own \"tools\".")
    var tools: String?
    @Flag(help: "End with the assistant header, ready for generation.") var generationPrompt = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: messages) else { throw ValidationError("--messages \(messages): cannot read the file") }
        var (conversation, listed) = try parseConversation(data, file: messages)
        if let tools {
            guard let data = FileManager.default.contents(atPath: tools) else { throw ValidationError("--tools \(tools): cannot read the file") }
            guard case let .array(list)? = try? JinjaValue(json: data) else {
                throw ValidationError("--tools \(tools): expected a JSON list of tool objects")
            }
            listed = list
        }
        let tokenizer = try model.tokenizer()
        let chosen: ChatTemplate
        if let template {
            chosen = FileManager.default.fileExists(atPath: template) ? try ChatTemplate(contentsOf: URL(fileURLWithPath: template))
                : try ChatTemplate.builtIn(named: template)
        } else if let source = tokenizer.chatTemplate {
            chosen = try ChatTemplate(source: source)
        } else {
            throw ValidationError("the model has no chat template; pass --template")
        }
        print(try chosen.render(messages: conversation.map(\.jinjaValue), addGenerationPrompt: generationPrompt,
                                bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken, tools: listed), terminator: "")
    }
}

/// A conversation from JSON: a list of messages, or an object with "messages" (and optionally "tools"). Key order
/// inside messages and tools is kept, as `tojson` prints it.
func parseConversation(_ data: Data, file: String) throws -> (messages: [ChatMessage], tools: [JinjaValue]?) {
    let expected = "expected a JSON list of {\"role\": ..., \"content\": ...} messages or {\"messages\": [...], \"tools\": [...]}"
    let value: JinjaValue
    do { value = try JinjaValue(json: data) } catch { throw ValidationError("\(file): \(expected) (\(error))") }
    var items: [JinjaValue], tools: [JinjaValue]? = nil
    switch value {
    case let .array(list): items = list
    case .object:
        guard case let .array(list)? = value["messages"] else { throw ValidationError("\(file): \(expected)") }
        items = list
        switch value["tools"] {
        case nil, .none?: break
        case let .array(list)?: tools = list
        case .some: throw ValidationError("\(file): \"tools\" must be a list of tool objects")
        }
    default: throw ValidationError("\(file): \(expected)")
    }
    do { return (try items.map(ChatMessage.init), tools) } catch { throw ValidationError("\(file): \(error)") }
}

/// Sampling flags shared by generate and chat.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Most new tokens.") var maxNewTokens = 256
    @Option(help: "0 = greedy.") var temperature: Float = 0.7
    @Option(help: "Keep the k most likely tokens (0 = all).") var topK = 0
    @Option(help: "Nucleus sampling threshold.") var topP: Float = 1
    @Option(help: "Sampler seed.") var seed: UInt64 = 0

    func options(stop: Set<Int32>) throws -> GenerationOptions {
        guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be ≥ 1") }
        guard temperature >= 0, topK >= 0, topP > 0, topP <= 1 else {
            throw ValidationError("need --temperature ≥ 0, --top-k ≥ 0 and 0 < --top-p ≤ 1")
        }
        return GenerationOptions(maxNewTokens: maxNewTokens, temperature: temperature, topK: topK, topP: topP, seed: seed,
                                 stopTokens: stop)
    }
}

/// Streams a reply to standard output; returns its text.
func streamReply(_ chat: ChatModel, prompt: [Int32], options: GenerationOptions) throws -> String {
    try chat.model.configuration.checkSequence(prompt, newTokens: options.maxNewTokens)
    var detokenizer = StreamingDetokenizer(tokenizer: chat.tokenizer, skipSpecialTokens: true)
    var reply = ""
    _ = chat.model.generate(prompt: prompt, options: options, backend: CPUBackend()) { id in
        if !options.stopTokens.contains(id) {
            let piece = detokenizer.append(Int(id))
            reply += piece
            print(piece, terminator: "")
            fflush(nil)
        }
        return true
    }
    let rest = detokenizer.finish()
    reply += rest
    print(rest)
    return reply
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate a reply, streamed as it is produced.")
    @OptionGroup var chat: ChatModelOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "The user message (or the raw text with --raw).") var prompt: String
    @Option(help: "A system message.") var system: String?
    @Flag(help: "Do not apply the chat template; continue the text as is.") var raw = false

    func run() throws {
        let model = try chat.load()
        let ids = raw ? model.rawIDs(for: prompt)
            : try model.promptIDs(for: (system.map { [ChatMessage(role: "system", content: $0)] } ?? []) + [ChatMessage(role: "user", content: prompt)])
        _ = try streamReply(model, prompt: ids, options: try sampling.options(stop: model.stopTokens))
    }
}

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chat", abstract: "An interactive multi-turn chat (empty line or Ctrl-D ends it).")
    @OptionGroup var chat: ChatModelOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "A system message.") var system: String?

    func run() throws {
        let model = try chat.load()
        var conversation = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        let options = try sampling.options(stop: model.stopTokens)
        while true {
            print("> ", terminator: "")
            fflush(nil)
            guard let line = readLine(), !line.trimmingCharacters(in: .whitespaces).isEmpty else { break }
            conversation.append(ChatMessage(role: "user", content: line))
            let reply = try streamReply(model, prompt: try model.promptIDs(for: conversation), options: options)
            conversation.append(ChatMessage(role: "assistant", content: reply))
        }
    }
}
