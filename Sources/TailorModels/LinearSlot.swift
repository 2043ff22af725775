// The linear layers of a decoder block as a type: a slot per layer, named as PEFT names its target modules, and a
// container holding one value per slot (gradients, saved activations, dropout masks, adapters).

/// A decoder block's linear layers. A block holds q/k/v or the fused qkv (Phi-3), gate/up or the fused gate_up.
/// The raw value numbers LoRA dropout streams: new cases go at the end.
public enum LinearSlot: Int, CaseIterable, Sendable, Hashable {
    case q, k, v, o, gate, up, down, qkv, gateUp

    /// The module name relative to the block, as transformers and PEFT write it (`self_attn.q_proj`).
    public var moduleName: String {
        switch self {
        case .q: "self_attn.q_proj"
        case .k: "self_attn.k_proj"
        case .v: "self_attn.v_proj"
        case .o: "self_attn.o_proj"
        case .gate: "mlp.gate_proj"
        case .up: "mlp.up_proj"
        case .down: "mlp.down_proj"
        case .qkv: "self_attn.qkv_proj"
        case .gateUp: "mlp.gate_up_proj"
        }
    }

    /// The slot whose module name is `moduleName`; nil for any other name.
    public init?(moduleName: String) {
        guard let slot = Self.allCases.first(where: { $0.moduleName == moduleName }) else { return nil }
        self = slot
    }
}

/// One optional value per `LinearSlot`, stored by slot (no hashing, no string keys).
public struct PerLinear<Value> {
    private var values: [Value?] = Array(repeating: nil, count: LinearSlot.allCases.count)

    public init() {}

    /// The value of `slot`; mutating through it changes the stored value in place.
    public subscript(slot: LinearSlot) -> Value? {
        get { values[slot.rawValue] }
        _modify { yield &values[slot.rawValue] }
    }

    /// The slots that hold a value, with it, in slot order.
    public var present: [(slot: LinearSlot, value: Value)] {
        LinearSlot.allCases.compactMap { slot in values[slot.rawValue].map { (slot, $0) } }
    }

    /// Runs `body` on the value of `slot` (`initial` when empty) as its only owner, so tensors inside are changed in
    /// place rather than copied, and stores it back.
    public mutating func update<R>(_ slot: LinearSlot, initial: @autoclosure () -> Value, _ body: (inout Value) throws -> R) rethrows -> R {
        var value = values[slot.rawValue].take() ?? initial()
        defer { values[slot.rawValue] = value }
        return try body(&value)
    }
}

extension PerLinear: Sendable where Value: Sendable {}
