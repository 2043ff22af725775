// The three ways of adapting a model, shared by training, the planner and export.

/// Which weights a run trains.
public enum TrainingMethod: String, Codable, Sendable, CaseIterable {
    /// Every weight trainable, f32 master weights and optimizer state.
    case full
    /// Frozen base, low-rank adapters on the target modules.
    case lora
    /// Base quantized to 4-bit NF4 (double quantization), LoRA on top.
    case qlora

    /// LoRA and QLoRA train adapters.
    public var trainsAdapters: Bool { self != .full }

    /// Display name: `full`, `LoRA`, `QLoRA`.
    public var displayName: String {
        switch self {
        case .full: "full"
        case .lora: "LoRA"
        case .qlora: "QLoRA"
        }
    }
}
