// What a client asks the engine for and what the engine sends back, token by token.
import Synchronization
import TailorModels

/// One generation request, in tokens.
public struct EngineRequest: Sendable {
    public var prompt: [Int32]
    /// Sampling, the token budget and the stop tokens.
    public var options: GenerationOptions
    /// The adapters of this request with their scales, applied unmerged to its rows only and summed; empty for the
    /// base model. A DoRA adapter must be alone.
    public var adapters: [ScaledAdapter]
    /// Number of most likely alternatives to report with each token's log-probability; nil reports none.
    public var topLogprobs: Int?

    public init(prompt: [Int32], options: GenerationOptions, adapters: [ScaledAdapter], topLogprobs: Int? = nil) {
        self.prompt = prompt
        self.options = options
        self.adapters = adapters
        self.topLogprobs = topLogprobs
    }

    /// A request with one adapter (or none) at `adapterScale`.
    public init(prompt: [Int32], options: GenerationOptions, adapter: UnmergedAdapter? = nil, adapterScale: Float = 1,
                topLogprobs: Int? = nil) {
        self.init(prompt: prompt, options: options, adapters: adapter.map { [ScaledAdapter($0, scale: adapterScale)] } ?? [],
                  topLogprobs: topLogprobs)
    }
}

/// A token with its log-probability under the model (before temperature and filtering), when asked for.
public struct GeneratedToken: Sendable {
    public var id: Int32
    /// True for a stop token: it ends the reply and is counted, but is not part of the text.
    public var isStop: Bool
    public var logprob: Float?
    /// The most likely tokens at this step, best first.
    public var top: [(id: Int32, logprob: Float)]
}

/// Why a reply ended, as OpenAI names it.
public enum FinishReason: String, Sendable {
    case stop, length
    /// The client went away or the server shut down before the end.
    case cancelled
}

/// What the engine streams for a request.
public enum EngineEvent: Sendable {
    case token(GeneratedToken)
    case finished(FinishReason)
}

/// Errors of `InferenceEngine.submit`.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case queueFull(limit: Int)
    case shuttingDown
    case emptyPrompt
    /// A DoRA adapter rescales the whole output of a layer, so its term cannot be summed with other adapters'.
    case doraCombined

    public var description: String {
        switch self {
        case .queueFull(let limit): "the server is busy: \(limit) requests are already waiting; retry later"
        case .shuttingDown: "the server is shutting down"
        case .emptyPrompt: "the prompt has no tokens"
        case .doraCombined: "a DoRA adapter cannot be combined with other adapters in one request"
        }
    }
}

/// A submitted request: its stream and a flag set when the client no longer listens.
final class PendingRequest: Sendable {
    let request: EngineRequest
    let continuation: AsyncStream<EngineEvent>.Continuation
    private let cancelled = Atomic<Bool>(false)

    init(request: EngineRequest, continuation: AsyncStream<EngineEvent>.Continuation) {
        self.request = request
        self.continuation = continuation
    }

    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func finish(_ reason: FinishReason) {
        continuation.yield(.finished(reason))
        continuation.finish()
    }
}
