// The adapters a server has loaded, by the name clients use as `model`; changed at run time by load/unload.
import Foundation
import Synchronization
import TailorModels

/// A loaded adapter and where it came from.
struct ServedAdapter: Sendable {
    var name: String
    var path: String
    var adapter: UnmergedAdapter
    var created: Int
}

final class AdapterRegistry: Sendable {
    private let adapters = Mutex<[String: ServedAdapter]>([:])
    /// Most adapters at once: each holds its tensors in memory.
    let limit: Int

    init(limit: Int) { self.limit = limit }

    var all: [ServedAdapter] { adapters.withLock { $0.values.sorted { $0.name < $1.name } } }

    func adapter(named name: String) -> ServedAdapter? { adapters.withLock { $0[name] } }

    /// Reads the PEFT folder at `path` against `base` and adds it as `name`.
    func load(name: String, path: String, base: LlamaWeights, reserved: String) throws {
        guard !name.isEmpty, name.count <= 256, name != reserved else {
            throw APIError.invalid("lora_name must be 1…256 characters and differ from the base model's name", param: "lora_name")
        }
        guard adapter(named: name) == nil else {
            throw APIError.invalid("The lora adapter '\(name)' has already been loaded.", param: "lora_name")
        }
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("adapter_config.json").path) else {
            throw APIError.invalid("\(path): no adapter_config.json (expected a PEFT adapter folder)", param: "lora_path")
        }
        let adapter: UnmergedAdapter
        do { adapter = try UnmergedAdapter(directory: url, base: base) } catch {
            throw APIError.invalid("\(path): \(error)", param: "lora_path")
        }
        try adapters.withLock { all in
            guard all[name] == nil else { throw APIError.invalid("The lora adapter '\(name)' has already been loaded.", param: "lora_name") }
            guard all.count < limit else { throw APIError.invalid("at most \(limit) adapters can be loaded; unload one first") }
            all[name] = ServedAdapter(name: name, path: path, adapter: adapter, created: Int(Date().timeIntervalSince1970))
        }
    }

    /// Removes `name`; requests already running with it finish with it.
    func unload(name: String) throws {
        try adapters.withLock { all in
            guard all.removeValue(forKey: name) != nil else {
                throw APIError(status: .notFound, message: "The lora adapter '\(name)' is not loaded.", type: "not_found_error",
                               param: "lora_name", code: "model_not_found")
            }
        }
    }
}
