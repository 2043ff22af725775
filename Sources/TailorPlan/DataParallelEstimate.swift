// Data-parallel training on N CPU nodes with Tailor's MPI trainer (`mpirun -np N tailor train`): what each rank
// holds and how many bytes it moves per optimizer step, from a single-device plan.
import TailorFormats

/// One method on `nodes` ranks.
public struct DataParallelEstimate: Codable, Sendable, Equatable {
    public var method: TrainingMethod
    public var nodes: Int
    /// 0: AdamW state on every rank; 1: partitioned (ZeRO-1).
    public var zero: Int
    /// The plan's memory per device with the optimizer state (and, for full fine-tuning with 16-bit products, the
    /// f32 masters of the linear weights and untied head) divided by `nodes` under ZeRO-1. Each rank still holds
    /// the whole gradient and a 16-bit copy of every weight, and trains its share of the global batch.
    public var memoryPerRank: Int
    /// AdamW state on one rank.
    public var optimizerPerRank: Int
    /// Full fine-tuning's f32 master weights on one rank (0 for adapters). Under ZeRO-1 with 16-bit products a rank
    /// keeps the masters of its own linear weights and head and only the 16-bit copies of the others'; the
    /// embedding and norms (read in f32) stay on every rank. With f32 products nothing can be dropped: the
    /// products read the f32 weights.
    public var mastersPerRank: Int
    /// The f32 gradient of the trainable parameters: what the ranks sum every step.
    public var gradientBytes: Int
    /// Bytes each rank sends per step with ring algorithms: 2(N−1)/N of the gradient for the allreduce (ZeRO-0);
    /// (N−1)/N of the gradient for the reduce-scatter plus (N−1)/N of the updated parameters for the all-gather
    /// (ZeRO-1), the linear weights and head in 16 bits when the products are (what the products read), the rest f32.
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
        let shape = request.model.config
        // Tensors only 16-bit products read: the decoder's linear weights and an untied head.
        let productOnly = shape.quantizableParameters + shape.lmHeadParameters
        let sixteenBit = request.weightDType != .float32
        let fraction = Double(nodes - 1) / Double(nodes)
        return methods.map { m in
            let optimizer = zero == 1 ? (m.memory.optimizer + nodes - 1) / nodes : m.memory.optimizer
            let full = m.method == .full
            let masters = full && sixteenBit && request.mixedPrecision ? 4 * m.trainableParameters : 0
            let dropped = zero == 1 && masters > 0 ? 4 * productOnly - (4 * productOnly + nodes - 1) / nodes : 0
            let gradient = 4 * m.trainableParameters
            let parameters = full && sixteenBit ? 4 * m.trainableParameters - 2 * productOnly : gradient
            let sent = Int((fraction * Double(gradient + (zero == 1 ? parameters : gradient))).rounded(.up))
            return DataParallelEstimate(method: m.method, nodes: nodes, zero: zero,
                                        memoryPerRank: m.memory.total - m.memory.optimizer + optimizer - dropped,
                                        optimizerPerRank: optimizer, mastersPerRank: masters - dropped,
                                        gradientBytes: gradient, sentPerRank: sent,
                                        secondsPerStep: Double(sent) * 8 / networkBitsPerSecond)
        }
    }
}
