// Settings of `tailor serve`, and what it serves: the model (loaded after the server starts) and adapters.
import Foundation
import Synchronization
import TailorModels

/// Where the server listens and what it accepts.
public struct ServeConfiguration: Sendable {
    /// Interface to bind: loopback unless the user says otherwise.
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (reported by `onListening`).
    public var port: Int = 8080
    /// When set, /v1 requests need `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Largest request body.
    public var maxBodyBytes: Int = 1 << 20
    /// Largest `max_tokens` a request may ask for, and the default when it asks for none.
    public var maxTokens: Int = 512
    /// Longest prompt + reply; nil means the model's own context length.
    public var maxContext: Int?
    public var engine = EngineConfiguration()
    /// How long running requests may finish after SIGTERM before they are cancelled.
    public var shutdownGrace: Duration = .seconds(30)
    /// Most adapters loaded at once.
    public var maxAdapters: Int = 16

    public init() {}
}

/// A loaded model ready to serve.
public struct ServedModel: Sendable {
    public var chat: ChatModel
    /// The model's context length (max_position_embeddings).
    public var contextLength: Int

    public init(chat: ChatModel, contextLength: Int) {
        self.chat = chat
        self.contextLength = contextLength
    }
}

/// The model being served: its name for clients, how to load it, and the adapters to load at start.
public struct ServedModelSource: Sendable {
    public var name: String
    public var adapters: [(name: String, path: String)]
    public var load: @Sendable () throws -> ServedModel

    public init(name: String, adapters: [(name: String, path: String)], load: @escaping @Sendable () throws -> ServedModel) {
        self.name = name
        self.adapters = adapters
        self.load = load
    }
}

/// What the handlers share: the model once loaded, the adapters, the metrics.
final class ServerState: Sendable {
    struct Ready: Sendable {
        var chat: ChatModel
        var engine: InferenceEngine
        var maxContext: Int
    }

    let configuration: ServeConfiguration
    let modelName: String
    let adapters: AdapterRegistry
    let metrics = ServeMetrics()
    let created = Int(Date().timeIntervalSince1970)
    private let readyState = Mutex<Ready?>(nil)

    init(configuration: ServeConfiguration, modelName: String) {
        self.configuration = configuration
        self.modelName = modelName
        adapters = AdapterRegistry(limit: configuration.maxAdapters)
    }

    var ready: Ready? { readyState.withLock { $0 } }
    func setReady(_ ready: Ready) { readyState.withLock { $0 = ready } }

    /// The loaded model, or 503 while it loads.
    func requireReady() throws -> Ready {
        guard let ready else { throw APIError.unavailable("the model is still loading") }
        return ready
    }
}
