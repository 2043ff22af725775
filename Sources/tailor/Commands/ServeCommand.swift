// `tailor serve`: parses flags and runs the OpenAI-compatible server of TailorServe.
import ArgumentParser
import Dispatch
import Foundation
import TailorChat
import TailorModels
import TailorServe

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model and its LoRA adapters over an OpenAI-compatible HTTP API (continuous batching).",
        discussion: "Clients use model: \"<name>\" for the base model and model: \"<adapter name>\" for an adapter; requests for different adapters share one batch. SIGTERM or Ctrl-C drains running requests within --shutdown-grace and exits 0.")
    @OptionGroup var model: ModelOption
    @Option(help: ArgumentHelp("A LoRA adapter to serve as NAME=FOLDER (PEFT format); repeat for several.", valueName: "name=folder"))
    var adapter: [String] = []
    @Option(help: "Chat template: a built-in name (\(ChatTemplate.builtInNames.joined(separator: ", "))) or a .jinja / tokenizer_config.json file. Default: the model's own.")
    var template: String?
    @OptionGroup var precision: InferencePrecisionOption
    @Option(help: "The base model's name for clients. Default: the model file or folder name.") var servedModelName: String?
    @Option(help: "Interface to listen on (127.0.0.1: this machine only).") var host = "127.0.0.1"
    @Option(help: "Port (0 picks a free one).") var port = 8080
    @Option(help: "Require 'Authorization: Bearer <key>' on /v1 requests.") var apiKey: String?
    @Option(help: "Requests decoded together.") var maxBatch = 16
    @Option(help: "Requests waiting for a slot before new ones get 429.") var maxQueue = 256
    @Option(help: "Prompt tokens read per step over all new requests (chunked prefill).") var prefillChunk = 256
    @Option(help: "Largest max_tokens a request may ask for (and the default).") var maxTokens = 512
    @Option(help: "Longest prompt + reply in tokens. Default: the model's context length.") var maxContext: Int?
    @Option(help: "Largest request body in bytes.") var maxBodyBytes = 1 << 20
    @Option(help: "Seconds running requests may take to finish after SIGTERM.") var shutdownGrace = 30.0

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard (1...256).contains(maxBatch), (0...100_000).contains(maxQueue), (1...65536).contains(prefillChunk) else {
            throw ValidationError("need 1 ≤ --max-batch ≤ 256, 0 ≤ --max-queue ≤ 100000 and 1 ≤ --prefill-chunk ≤ 65536")
        }
        guard (1...1_000_000).contains(maxTokens), maxContext.map({ $0 >= 2 }) ?? true, maxBodyBytes >= 1024,
              shutdownGrace.isFinite, (0...3600).contains(shutdownGrace) else {
            throw ValidationError("need --max-tokens ≥ 1, --max-context ≥ 2, --max-body-bytes ≥ 1024 and 0 ≤ --shutdown-grace ≤ 3600")
        }
        _ = try adapters()
        _ = try precision.precision()
    }

    func adapters() throws -> [(name: String, path: String)] {
        try adapter.map { spec in
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--adapter \(spec): expected NAME=FOLDER")
            }
            return (parts[0], parts[1])
        }
    }

    func run() throws {
        try model.checkExists()
        var settings = ServeConfiguration()
        settings.host = host
        settings.port = port
        settings.apiKey = apiKey
        settings.engine = EngineConfiguration(maxBatch: maxBatch, maxQueue: maxQueue, prefillChunk: prefillChunk)
        settings.maxTokens = maxTokens
        settings.maxContext = maxContext
        settings.maxBodyBytes = maxBodyBytes
        settings.shutdownGrace = .milliseconds(Int64(shutdownGrace * 1000))
        let name = servedModelName ?? model.url.deletingPathExtension().lastPathComponent
        let (modelOption, template, precision) = (model, template, try precision.precision())
        let source = ServedModelSource(name: name, adapters: try adapters()) {
            var loaded = try modelOption.load()
            loaded.storeForInference(precision)
            return ServedModel(chat: try ChatModel(loaded: loaded, templateChoice: template),
                               contextLength: loaded.checkpoint.config.maxPositionEmbeddings)
        }
        let server = Server(configuration: settings, source: source)
        let outcome = ServeOutcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run(onListening: { host, port in
                    print("tailor serve: listening on http://\(host):\(port)/v1 (model '\(name)', loading)")
                    fflush(nil)
                }, onReady: {
                    print("tailor serve: ready")
                    fflush(nil)
                })
            } catch {
                outcome.failure = "\(error)"
            }
            done.signal()
        }
        done.wait()
        if let failure = outcome.failure { throw ValidationError("serve: \(failure)") }
        print("tailor serve: stopped")
    }
}

/// Carries the server's error from its task to the command.
private final class ServeOutcome: @unchecked Sendable {
    var failure: String?   // written once by the task before it signals, read after the wait
}
