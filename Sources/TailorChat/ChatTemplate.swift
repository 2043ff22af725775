// ChatTemplate: parse a Jinja chat template once, render conversations exactly as transformers' apply_chat_template.
import Foundation

// The tree holds only Sendable payloads: literals are none/bool/int/double/string, never callables or namespaces.
extension Node: @unchecked Sendable {}
extension Expr: @unchecked Sendable {}

/// A parsed chat template.
///
/// Rendering follows jinja2 as transformers configures it (`ImmutableSandboxedEnvironment(trim_blocks=True,
/// lstrip_blocks=True, extensions=[loopcontrols])`, `tojson` = `json.dumps(ensure_ascii=False)`, globals
/// `raise_exception`, `strftime_now`, `range`, `dict`, `namespace`).
public struct ChatTemplate: Sendable {
    /// Bounds that keep a hostile or buggy template from running forever or exhausting memory.
    public struct Limits: Sendable, Equatable {
        /// Total bytes written (including captured blocks and macro bodies), and the size of any one string.
        public var maxOutputBytes: Int
        /// Total `for` iterations over the whole render.
        public var maxLoopIterations: Int
        /// Nesting of macro calls.
        public var maxRecursionDepth: Int
        /// Items in a list built by `range`, `+` or `*`.
        public var maxCollectionCount: Int
        /// How deeply a template may nest lists, dicts and namespaces it builds (a loop that wraps a value in a new
        /// list each iteration would otherwise overflow the stack when the value is printed or freed).
        public var maxNestingDepth: Int
        /// Work budget for one render: one step per expression evaluated, plus one per list item or per 64 bytes of
        /// string a concatenation, filter or method builds, so quadratic loops (a list or string grown by copying
        /// each iteration) end with an error instead of running for hours.
        public var maxSteps: Int

        public init(maxOutputBytes: Int = 16 << 20, maxLoopIterations: Int = 100_000, maxRecursionDepth: Int = 64,
                    maxCollectionCount: Int = 1_000_000, maxNestingDepth: Int = 256, maxSteps: Int = 10_000_000)
        {
            self.maxSteps = maxSteps
            self.maxOutputBytes = maxOutputBytes
            self.maxLoopIterations = maxLoopIterations
            self.maxRecursionDepth = maxRecursionDepth
            self.maxCollectionCount = maxCollectionCount
            self.maxNestingDepth = maxNestingDepth
        }
    }

    /// The template text as given.
    public let source: String
    /// Where the template came from (a file path, a built-in name, or "template"); errors name it with the position.
    public let sourceName: String
    /// Safety limits applied to every render.
    public var limits: Limits
    /// Fixed time for `strftime_now` (nil: the current time), so renders can be reproducible.
    public var clock: Date?
    /// Time zone for `strftime_now` (Python's `datetime.now()` uses local time; UTC here unless set).
    public var timeZone: TimeZone
    /// The model's BOS token when known (built-in templates, or `bos_token` of a loaded tokenizer_config.json).
    public private(set) var bosToken: String?
    /// The model's EOS token when known (built-in templates, or `eos_token` of a loaded tokenizer_config.json).
    public private(set) var eosToken: String?

    /// True when the template marks assistant text with transformers' `{% generation %}` blocks.
    public let hasGenerationBlocks: Bool

    private let nodes: [Node]
    private let map: SourceMap

    /// Parses a template. Throws `ChatTemplateError.syntax(line:column:message:)` on invalid Jinja.
    public init(source: String, limits: Limits = Limits(), sourceName: String = "template") throws {
        self.source = source
        self.sourceName = sourceName
        self.limits = limits
        self.timeZone = TimeZone(identifier: "UTC") ?? TimeZone.current
        map = SourceMap(bytes: Array(normaliseSource(source).utf8))
        var parser = Parser(segments: try Lexer(map: map).segments(), map: map)
        nodes = try parser.parseTemplate()
        hasGenerationBlocks = parser.sawGeneration
    }

    /// Loads a template from a `.jinja` file, or the `chat_template` of a `tokenizer_config.json`.
    public init(contentsOf url: URL, limits: Limits = Limits()) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ChatTemplateError.invalidInput("cannot read chat template file \(url.path): \(error.localizedDescription)")
        }
        guard url.pathExtension.lowercased() == "json" else {
            try self.init(source: String(decoding: data, as: UTF8.self), limits: limits, sourceName: url.path)
            return
        }
        let config = try JinjaValue(json: data)
        switch config["chat_template"] {
        case let .string(s)?:
            try self.init(source: s, limits: limits, sourceName: url.path)
        case let .array(variants)?:
            // Newer configs list named templates; "default" is the one apply_chat_template uses.
            guard let chosen = variants.first(where: { $0["name"]?.stringValue == "default" }) ?? variants.first,
                  let text = chosen["template"]?.stringValue
            else { throw ChatTemplateError.invalidInput("\(url.path): field chat_template has no usable template") }
            try self.init(source: text, limits: limits, sourceName: url.path)
        default:
            throw ChatTemplateError.invalidInput("\(url.path): no string field 'chat_template' (hint: point at a .jinja file)")
        }
        // Special tokens are a string or an AddedToken object {"content": ...}.
        bosToken = config["bos_token"]?.stringValue ?? config["bos_token"]?["content"]?.stringValue
        eosToken = config["eos_token"]?.stringValue ?? config["eos_token"]?["content"]?.stringValue
    }

    /// A template shipped with TailorChat, by family name (see `builtInNames`; aliases such as "smollm2" work too).
    public static func builtIn(named name: String) throws -> ChatTemplate {
        let key = name.lowercased()
        let canonical = BuiltInTemplates.aliases[key] ?? key
        guard let entry = BuiltInTemplates.all.first(where: { $0.name == canonical }) else {
            throw ChatTemplateError.unknownTemplate(name)
        }
        var template = try ChatTemplate(source: entry.source, sourceName: entry.name)
        template.bosToken = entry.bosToken
        template.eosToken = entry.eosToken
        return template
    }

    /// Canonical names accepted by `builtIn(named:)`.
    public static var builtInNames: [String] { BuiltInTemplates.all.map(\.name) }

    /// Renders messages exactly as `apply_chat_template(messages, tokenize=False, ...)`.
    ///
    /// Like transformers, message keys whose value is `none` are dropped first, and `tools`/`documents` are always
    /// defined (as `none` when not given). `extraContext` adds or overrides template variables.
    public func render(messages: [JinjaValue], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                       tools: [JinjaValue]? = nil, documents: [JinjaValue]? = nil,
                       extraContext: [String: JinjaValue] = [:]) throws -> String
    {
        try renderTracked(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken,
                          tools: tools, documents: documents, extraContext: extraContext).text
    }

    /// Renders and also returns the byte ranges of top-level `{% generation %}` blocks.
    func renderTracked(messages: [JinjaValue], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                       tools: [JinjaValue]?, documents: [JinjaValue]?, extraContext: [String: JinjaValue]) throws
        -> (text: String, generation: [Range<Int>])
    {
        var context: [String: Value] = [:]
        context["messages"] = .array(messages.map { message in
            guard case let .object(pairs) = message else { return Value(message) }
            return Value(.object(pairs.filter { $0.1 != .none }))
        })
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        // `Value.none` spelled out: a bare `.none` here would be Optional.none and leave the variable undefined.
        context["tools"] = tools.map { Value(.array($0)) } ?? Value.none
        context["documents"] = documents.map { Value(.array($0)) } ?? Value.none
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        for (k, v) in extraContext { context[k] = Value(v) }
        let interpreter = Interpreter(map: map, sourceName: sourceName, limits: limits, clock: clock ?? Date(), timeZone: timeZone, context: context)
        let text = try interpreter.render(nodes)
        return (text, interpreter.generationRanges)
    }

    /// Renders with exactly the given variables (no defaults added): for templates other than chat formats.
    public func render(context: [String: JinjaValue]) throws -> String {
        let interpreter = Interpreter(map: map, sourceName: sourceName, limits: limits, clock: clock ?? Date(), timeZone: timeZone,
                                      context: context.mapValues(Value.init))
        return try interpreter.render(nodes)
    }

    /// Renders `ChatMessage`s; see `render(messages:...)`.
    public func render(conversation: [ChatMessage], addGenerationPrompt: Bool, bosToken: String?,
                       eosToken: String?) throws -> String
    {
        try render(messages: conversation.map(\.jinjaValue), addGenerationPrompt: addGenerationPrompt,
                   bosToken: bosToken, eosToken: eosToken)
    }
}

extension ChatTemplate {
    /// Whether the template can show a conversation's tools and tool calls: its text reads `tools` (when
    /// `tools` is set) and `tool_calls` (when `toolCalls` is set). A template that never names them (ChatML as
    /// SmolLM2 ships it) renders a tool-calling turn as an empty one.
    public func renders(tools: Bool, toolCalls: Bool) -> Bool {
        (!tools || source.contains("tools")) && (!toolCalls || source.contains("tool_calls"))
    }
}
