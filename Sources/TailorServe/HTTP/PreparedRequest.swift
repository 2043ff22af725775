// A chat or completion request checked against the server's limits and turned into an engine request.
import Foundation
import TailorModels

/// A validated request: what the engine runs and what the response needs.
struct PreparedRequest: Sendable {
    var engine: EngineRequest
    var stops: [String]
    var modelName: String
    var stream: Bool
    var includeUsage: Bool
    var logprobs: Bool
}

extension SamplingFields {
    /// Checks every field against its limit (OpenAI's ranges, the server's `maxTokens`, the context length) and
    /// resolves the model name to the base model or an adapter.
    func prepared(prompt: [Int32], topLogprobs: Int?, state: ServerState, ready: ServerState.Ready) throws -> PreparedRequest {
        let limits = state.configuration
        guard n ?? 1 == 1 else { throw APIError.invalid("only n = 1 is supported", param: "n") }
        let temperature = temperature ?? 1
        guard temperature.isFinite, (0...2).contains(temperature) else {
            throw APIError.invalid("temperature must be between 0 and 2", param: "temperature")
        }
        let topP = topP ?? 1
        guard topP.isFinite, topP > 0, topP <= 1 else { throw APIError.invalid("top_p must be in (0, 1]", param: "top_p") }
        let topK = topK ?? 0
        guard topK >= -1 else { throw APIError.invalid("top_k must be -1 (all), 0 (all) or a positive count", param: "top_k") }
        let stops = stop?.values ?? []
        guard stops.count <= 4, stops.allSatisfy({ !$0.isEmpty && $0.count <= 256 }) else {
            throw APIError.invalid("stop takes at most 4 non-empty strings of at most 256 characters", param: "stop")
        }
        guard !prompt.isEmpty else { throw APIError.invalid("the prompt is empty", param: "prompt") }
        let requested = maxCompletionTokens ?? maxTokens
        if let requested, !(1...limits.maxTokens).contains(requested) {
            throw APIError.invalid("max_tokens must be between 1 and \(limits.maxTokens) (this server's limit)", param: "max_tokens")
        }
        let room = ready.maxContext - prompt.count
        guard room > 0, requested ?? 1 <= room else {
            throw APIError.invalid("This model's maximum context length is \(ready.maxContext) tokens. However, you requested "
                                   + "\(prompt.count + (requested ?? 1)) tokens (\(prompt.count) in the messages, "
                                   + "\(requested ?? 1) in the completion). Please reduce the length of the messages or completion.",
                                   param: "messages", code: "context_length_exceeded")
        }
        let adapters = try resolveAdapters(state: state)
        // The sampler's seed: a negative JSON seed keeps its bits.
        let options = GenerationOptions(maxNewTokens: requested ?? min(limits.maxTokens, room), temperature: temperature,
                                        topK: max(0, topK), topP: topP, seed: UInt64(bitPattern: seed ?? 0),
                                        stopTokens: ready.chat.stopTokens)
        return PreparedRequest(
            engine: EngineRequest(prompt: prompt, options: options, adapters: adapters, topLogprobs: topLogprobs),
            stops: stops, modelName: model, stream: stream ?? false, includeUsage: streamOptions?.includeUsage ?? false,
            logprobs: topLogprobs != nil)
    }

    /// Most adapters one request may combine (each adds a low-rank product to every adapted layer).
    static let maxAdaptersPerRequest = 8

    /// The request's adapters and scales: each `lora` entry (`name` or `id`, `scale` default 1), plus the adapter
    /// `model` names at scale 1 unless the list names it too. Their terms are summed unmerged, as PEFT sums several
    /// active adapters; a DoRA adapter must be alone.
    private func resolveAdapters(state: ServerState) throws -> [ScaledAdapter] {
        var terms: [(adapter: ServedAdapter, scale: Float)] = []
        for (i, entry) in (lora ?? []).enumerated() {
            guard let name = entry.name ?? entry.id else {
                throw APIError.invalid("lora[\(i)] needs a \"name\" (or \"id\") of a loaded adapter", param: "lora")
            }
            guard let adapter = state.adapters.adapter(named: name) else { throw APIError.unknownModel(name) }
            guard !terms.contains(where: { $0.adapter.name == name }) else {
                throw APIError.invalid("lora names the adapter '\(name)' twice", param: "lora")
            }
            let scale = entry.scale ?? 1
            guard scale.isFinite, abs(scale) <= 16 else { throw APIError.invalid("lora scale must be between -16 and 16", param: "lora") }
            terms.append((adapter, scale))
        }
        if model != state.modelName {
            guard let adapter = state.adapters.adapter(named: model) else { throw APIError.unknownModel(model) }
            if !terms.contains(where: { $0.adapter.name == model }) { terms.insert((adapter, 1), at: 0) }
        }
        guard terms.count <= Self.maxAdaptersPerRequest else {
            throw APIError.invalid("a request combines at most \(Self.maxAdaptersPerRequest) adapters; this one names \(terms.count)",
                                   param: "lora")
        }
        if terms.count > 1, let dora = terms.first(where: { $0.adapter.adapter.configuration.useDoRA }) {
            throw APIError.invalid("'\(dora.adapter.name)' is a DoRA adapter: its magnitude rescales the whole output, so it "
                                   + "cannot be combined with other adapters in one request", param: "lora")
        }
        return terms.map { ScaledAdapter($0.adapter.adapter, scale: $0.scale) }
    }
}
