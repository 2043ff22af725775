// Reading PEFT adapter folders for a merge or an export, with named errors for missing files and foreign adapters,
// and model soups: several adapters averaged into one update.
import Foundation
import TailorFormats
import TailorModels
import TailorTensor

/// A PEFT adapter read against a base model.
public struct LoadedAdapter: Sendable {
    public var directory: URL
    public var configuration: LoRAConfiguration
    /// The adapters by full module name.
    public var adapters: [String: LoRAAdapter]

    /// Reads `directory` (adapter_config.json + adapter_model.safetensors) and checks every tensor against `base`.
    public init(directory: URL, base: LlamaWeights) throws {
        for file in ["adapter_config.json", "adapter_model.safetensors"] {
            let url = directory.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: url.path) else { throw ExportError.missingAdapterFile(path: url.path) }
        }
        var weights = base
        for l in weights.layers.indices {
            for slot in LinearSlot.allCases { weights.layers[l][linear: slot]?.lora = nil }
        }
        do {
            configuration = try PEFTAdapter.load(from: directory, into: &weights)
        } catch let error as LoRAError {
            switch error {
            case .shapeMismatch, .missingTensor, .noTargets:
                throw ExportError.adapterMismatch(adapter: directory.path, reason: error.description)
            default:
                throw error
            }
        }
        self.directory = directory
        adapters = WeightedAdapters(attachedTo: weights, source: directory.path).adapters
    }

    /// Rank of every adapted module.
    public var ranks: [String: Int] { adapters.mapValues(\.rank) }
}

/// Averaging adapters ("model soup").
public enum ModelSoup {
    /// Normalized weights: `weights` if given (one per adapter, summing to a positive total), else equal weights.
    /// The weights are divided by their sum so that the soup is an average.
    public static func normalizedWeights(_ weights: [Double]?, count: Int) throws -> [Float] {
        guard let weights else { return [Float](repeating: 1 / Float(count), count: count) }
        guard weights.count == count else {
            throw ExportError.invalidWeights("\(weights.count) weights for \(count) adapters")
        }
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw ExportError.invalidWeights("weights must be finite and non-negative") }
        let sum = weights.reduce(0, +)
        guard sum > 0 else { throw ExportError.invalidWeights("weights sum to zero") }
        return weights.map { Float($0 / sum) }
    }

    /// The weighted adapter sets of a soup: the merged update is Σᵢ wᵢ·sᵢ·Bᵢ·Aᵢ, the average of the products
    /// (exact whatever the ranks; averaging A and B separately would not be).
    public static func weightedSets(_ adapters: [LoadedAdapter], weights: [Float]) -> [WeightedAdapters] {
        zip(adapters, weights).map { WeightedAdapters(adapters: $0.adapters, weight: $1, source: $0.directory.path) }
    }

    /// One averaged adapter when every adapter has the same targets, ranks and scalings: A = Σ wᵢAᵢ, B = Σ wᵢBᵢ.
    /// This is the parameter average ("uniform soup" of adapter weights), which is NOT the average of the updates
    /// BᵢAᵢ; nil when the adapters differ in shape.
    public static func averagedAdapter(_ adapters: [LoadedAdapter], weights: [Float]) -> [String: LoRAAdapter]? {
        guard let first = adapters.first else { return nil }
        let keys = Set(first.adapters.keys)
        for other in adapters.dropFirst() {
            guard Set(other.adapters.keys) == keys else { return nil }
            for key in keys {
                guard let a = first.adapters[key], let b = other.adapters[key], a.rank == b.rank, a.scaling == b.scaling else { return nil }
            }
        }
        var out: [String: LoRAAdapter] = [:]
        for key in keys {
            guard let template = first.adapters[key] else { continue }
            var a = [Float](repeating: 0, count: template.a.count), b = [Float](repeating: 0, count: template.b.count)
            for (adapter, w) in zip(adapters, weights) {
                guard let lora = adapter.adapters[key] else { continue }
                for (i, v) in lora.a.converted(to: .f32).floats().enumerated() { a[i] += w * v }
                for (i, v) in lora.b.converted(to: .f32).floats().enumerated() { b[i] += w * v }
            }
            out[key] = LoRAAdapter(a: .init(shape: template.a.shape, values: a), b: .init(shape: template.b.shape, values: b),
                                   scaling: template.scaling, dropout: 0)
        }
        return out
    }
}
