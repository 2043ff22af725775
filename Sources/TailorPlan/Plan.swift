// The planner's output: one MethodPlan per method, the recommendation and the preflight findings.
import Foundation
import TailorFormats

/// Memory and time of one method at the requested settings.
public struct MethodPlan: Codable, Sendable, Equatable {
    public var method: TrainingMethod
    public var trainableParameters: Int
    public var memory: MemoryEstimate
    /// The parts of `memory.activations`.
    public var activationDetail: ActivationEstimate
    /// Activations at the requested micro-batch without gradient checkpointing.
    public var activationsWithoutCheckpointing: Int
    /// Activations at the requested micro-batch with gradient checkpointing.
    public var activationsWithCheckpointing: Int
    /// The largest micro-batch (sequences per device) whose estimate fits; 0 when not even 1 fits.
    public var maxMicroBatchSize: Int
    public var time: TimeEstimate
}

/// A complete plan for a request.
public struct Plan: Codable, Sendable, Equatable {
    public var request: PlanRequest
    public var parameterCount: Int
    /// The rank and alpha used for the LoRA and QLoRA rows (the request's, or the recommended ones).
    public var loraRank: Int
    public var loraAlpha: Double
    /// Σ r·(d_in + d_out) over the targeted modules.
    public var adapterParameters: Int
    /// How many linear modules the LoRA target spec selects.
    public var targetedModuleCount: Int
    /// full, LoRA, QLoRA in this order.
    public var methods: [MethodPlan]
    public var recommendation: Recommendation
    public var findings: [Finding]

    /// The plan of one method.
    public func method(_ method: TrainingMethod) -> MethodPlan? { methods.first { $0.method == method } }

    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
