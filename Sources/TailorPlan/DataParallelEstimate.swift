// Data-parallel training on N CPU nodes with Tailor's MPI trainer (`mpirun -np N tailor train`): what each rank
import TailorFormats
// holds and how many bytes it moves per optimizer step, from a single-device plan.

/// One method on `nodes` ranks.
public struct DataParallelEstimate: Codable, Sendable, Equatable {
    public var method: TrainingMethod
    public var nodes: Int
    /// 0: AdamW state on every rank; 1: partitioned (ZeRO-1).
    public var zero: Int
    /// The plan's memory per device with the optimizer state divided by `nodes` under ZeRO-1 (each rank still
    /// holds every weight and the whole gradient, and trains its share of the global batch).
    public var memoryPerRank: Int
    /// AdamW state on one rank.
    public var optimizerPerRank: Int
    /// The f32 gradient of the trainable parameters: what the ranks sum every step.
    public var gradientBytes: Int
    /// Bytes each rank sends per step with ring algorithms: 2(N−1)/N of the gradient, for the allreduce (ZeRO-0)
    /// as for the reduce-scatter of gradients plus the all-gather of f32 parameters (ZeRO-1).
    public var sentPerRank: Int
    /// `sentPerRank` at the given network rate (latency ignored).
    public var secondsPerStep: Double
}

extension Plan {
    /// Per-rank memory and communication of each method on `nodes` ranks.
    ///
    /// - Throws: `PlanError.invalidValue` for `nodes` outside 1 ... 65,536, `zero` other than 0 or 1, or a network
    ///   rate that is not positive.
    public func dataParallel(nodes: Int, zero: Int, networkBitsPerSecond: Double) throws -> [DataParallelEstimate] {
        guard (1...65_536).contains(nodes) else {
            throw PlanError.invalidValue(field: "nodes", value: "\(nodes)", reason: "use 1 to 65536")
        }
        guard zero == 0 || zero == 1 else { throw PlanError.invalidValue(field: "zero", value: "\(zero)", reason: "use 0 or 1") }
        guard networkBitsPerSecond > 0, networkBitsPerSecond.isFinite else {
            throw PlanError.invalidValue(field: "network", value: "\(networkBitsPerSecond)", reason: "use a positive rate")
        }
        return methods.map { m in
            let optimizer = zero == 1 ? (m.memory.optimizer + nodes - 1) / nodes : m.memory.optimizer
            let gradient = 4 * m.trainableParameters
            let sent = Int((2 * Double(nodes - 1) / Double(nodes) * Double(gradient)).rounded(.up))
            return DataParallelEstimate(method: m.method, nodes: nodes, zero: zero,
                                        memoryPerRank: m.memory.total - m.memory.optimizer + optimizer,
                                        optimizerPerRank: optimizer, gradientBytes: gradient, sentPerRank: sent,
                                        secondsPerStep: Double(sent) * 8 / networkBitsPerSecond)
        }
    }
}
