// Starting and stopping `tailor serve`: the HTTP application (Hummingbird) and the engine, as two services of one
// group. The server listens at once (/health answers 503) while the model loads; SIGTERM or SIGINT drains the engine
// within the grace period, then closes the listener.
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TailorKernels

/// An OpenAI-compatible server for one model and its adapters.
public struct Server: Sendable {
    public let configuration: ServeConfiguration
    public let source: ServedModelSource

    public init(configuration: ServeConfiguration, source: ServedModelSource) {
        self.configuration = configuration
        self.source = source
    }

    /// Serves until SIGTERM/SIGINT (then drains and returns) or until the task is cancelled. `onListening` gets the
    /// bound host and port; `onReady` is called once the model is loaded. Throws when the model or an adapter cannot
    /// be loaded or the address cannot be bound.
    public func run(onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in },
                    onReady: @escaping @Sendable () -> Void = {}) async throws {
        let state = ServerState(configuration: configuration, modelName: source.name)
        var logger = Logger(label: "tailor-serve")
        logger.logLevel = .warning
        let host = configuration.host
        let app = Application(router: state.makeRouter(),
                              configuration: .init(address: .hostname(host, port: configuration.port), serverName: "tailor"),
                              onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
                              logger: logger)
        let engine = EngineService(state: state, source: source, onReady: onReady)
        // Shut down in reverse order: the engine drains first (new requests get 503), then the listener closes.
        var group = ServiceGroupConfiguration(services: [app, engine], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownGrace + .seconds(5)
        try await ServiceGroup(configuration: group).run()
    }
}

/// Loads the model and adapters, runs the engine, and drains it on graceful shutdown.
struct EngineService: Service {
    let state: ServerState
    let source: ServedModelSource
    let onReady: @Sendable () -> Void

    func run() async throws {
        let served = try source.load()
        let chat = served.chat
        let configuration = state.configuration
        let maxContext = min(configuration.maxContext ?? served.contextLength, served.contextLength)
        for (name, path) in source.adapters {
            try state.adapters.load(name: name, path: path, base: chat.model.weights, reserved: source.name)
        }
        let engine = InferenceEngine(model: chat.model, configuration: configuration.engine, backend: CPUBackend())
        engine.start()
        state.setReady(.init(chat: chat, engine: engine, maxContext: maxContext))
        onReady()
        try? await gracefulShutdown()
        await engine.shutdown(grace: configuration.shutdownGrace)
    }
}
