// Loading a tokenizer from a model folder or from tokenizer.json bytes, with tokenizer_config.json,
// special_tokens_map.json and chat_template.jinja supplying the special-token names and the chat template.
import Foundation

extension Tokenizer {
    /// Loads `tokenizer.json` from `directory`, plus `tokenizer_config.json`, `special_tokens_map.json` and
    /// `chat_template.jinja` when present.
    public init(directory: URL) throws {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let data = try Self.read(tokenizerURL, required: true) ?? Data()
        let config = try Self.read(directory.appendingPathComponent("tokenizer_config.json"), required: false)
        let specialMap = try Self.read(directory.appendingPathComponent("special_tokens_map.json"), required: false)
        let jinja = try Self.read(directory.appendingPathComponent("chat_template.jinja"), required: false)
        try self.init(tokenizerJSON: data, tokenizerConfigJSON: config, specialTokensMapJSON: specialMap,
                      chatTemplateJinja: jinja.map { String(decoding: $0, as: UTF8.self) })
    }

    /// Builds a tokenizer from the bytes of tokenizer.json and, optionally, tokenizer_config.json.
    public init(tokenizerJSON: Data, tokenizerConfigJSON: Data? = nil) throws {
        try self.init(tokenizerJSON: tokenizerJSON, tokenizerConfigJSON: tokenizerConfigJSON, specialTokensMapJSON: nil,
                      chatTemplateJinja: nil)
    }

    init(tokenizerJSON: Data, tokenizerConfigJSON: Data?, specialTokensMapJSON: Data?, chatTemplateJinja: String?) throws {
        let components = try TokenizerJSONParser(file: "tokenizer.json").parse(tokenizerJSON)
        var names = SpecialNames()
        if let specialTokensMapJSON {
            try Self.readNames(specialTokensMapJSON, file: "special_tokens_map.json", into: &names)
        }
        if let tokenizerConfigJSON {
            try Self.readNames(tokenizerConfigJSON, file: "tokenizer_config.json", into: &names)
        }
        if let chatTemplateJinja { names.chatTemplate = chatTemplateJinja }
        self.init(components: components, names: names)
    }

    private static func read(_ url: URL, required: Bool) throws -> Data? {
        guard FileManager.default.fileExists(atPath: url.path) else {
            if required { throw TokenizerError.missingFile(path: url.path) }
            return nil
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
    }

    /// bos_token / eos_token / pad_token / unk_token (a string or {"content": ...}) and chat_template (a string,
    /// or a list of {"name", "template"} from which "default" is taken).
    private static func readNames(_ data: Data, file: String, into names: inout SpecialNames) throws {
        let json = JSONFields(file: file)
        let root = try json.parse(data)
        func token(_ key: String) throws -> String? {
            guard let value = root[key], !value.isNull else { return nil }
            if let text = value.stringValue { return text }
            if let object = value.objectValue { return try json.string(object, "content", path: key + ".content") }
            throw json.fail(key, "expected a string or {\"content\": ...}")
        }
        if let bos = try token("bos_token") { names.bos = bos }
        if let eos = try token("eos_token") { names.eos = eos }
        if let pad = try token("pad_token") { names.pad = pad }
        if let unk = try token("unk_token") { names.unk = unk }
        if let template = root["chat_template"], !template.isNull {
            if let text = template.stringValue {
                names.chatTemplate = text
            } else if let list = template.arrayValue {
                for (index, entry) in list.enumerated() {
                    guard let object = entry.objectValue else {
                        throw json.fail("chat_template[\(index)]", "expected {\"name\", \"template\"}")
                    }
                    if try json.string(object, "name", path: "chat_template[\(index)].name") == "default" {
                        names.chatTemplate = try json.string(object, "template", path: "chat_template[\(index)].template")
                    }
                }
            } else {
                throw json.fail("chat_template", "expected a string or a list of named templates")
            }
        }
    }
}
