// What a client asks the engine for and what the engine sends back, token by token.
import Synchronization
import TailorModels

/// One generation request, in tokens.
public struct EngineRequest: Sendable {
    public var prompt: [Int32]
    /// Sampling, the token budget and the stop tokens.
    public var options: GenerationOptions
    /// The adapter of this request, applied unmerged to its rows only; nil for the base model.
    public var adapter: UnmergedAdapter?
    public var adapterScale: Float
    /// Number of most likely alternatives to report with each token's log-probability; nil reports none.
    public var topLogprobs: Int?

    public init(prompt: [Int32], options: GenerationOptions, adapter: UnmergedAdapter? = nil, adapterScale: Float = 1,
                topLogprobs: Int? = nil) {
        self.prompt = prompt
        self.options = options
        self.adapter = adapter
        self.adapterScale = adapterScale
        self.topLogprobs = topLogprobs
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

    public var description: String {
        switch self {
        case .queueFull(let limit): "the server is busy: \(limit) requests are already waiting; retry later"
        case .shuttingDown: "the server is shutting down"
        case .emptyPrompt: "the prompt has no tokens"
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
