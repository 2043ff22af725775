// A LoRA/DoRA adapter held apart from the base weights, so that each row of a batch can use its own (serving).
import Foundation
import TailorFormats

/// A PEFT adapter's low-rank pairs by layer and linear name, read against a base model but not attached to it.
public struct UnmergedAdapter: Sendable {
    /// Identifies the adapter within a process (rows with equal ids share their low-rank products).
    public let id: UUID
    /// `layers[l][slot]`: block l's adapter on that linear layer, if any.
    public let layers: [PerLinear<LoRAAdapter>]
    public let configuration: LoRAConfiguration

    /// Reads a PEFT adapter folder with the same checks as `PEFTAdapter.load` (every tensor present, shapes of `base`).
    public init(directory: URL, base: LlamaWeights) throws {
        var weights = base   // tensors are shared, not copied: only the adapters are added to this copy
        configuration = try PEFTAdapter.load(from: directory, into: &weights)
        layers = weights.layers.map { layer in
            var adapters = PerLinear<LoRAAdapter>()
            for slot in layer.presentLinears { adapters[slot] = layer[linear: slot]?.lora }
            return adapters
        }
        id = UUID()
    }

    /// Number of adapter parameters.
    public var parameterCount: Int {
        layers.reduce(0) { $0 + $1.present.reduce(0) { $0 + $1.value.a.count + $1.value.b.count + ($1.value.magnitude?.count ?? 0) } }
    }
}
