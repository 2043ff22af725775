// Does an adapter survive the export type? An update smaller than half a step of the stored number rounds away:
// for bf16 the step is one ulp of the merged weight (8 significant bits), for Q8_0/Q4_0 the block scale d.
import TailorTensor

/// The storage precision of an export: a float dtype or a GGML block type.
public enum ExportPrecision: String, Sendable, CaseIterable, Codable {
    case f32, f16, bf16, q8_0, q4_0

    /// Mantissa bits of the float types (explicit bits, not counting the implicit one).
    var mantissaBits: Int? {
        switch self {
        case .f32: 23
        case .f16: 10
        case .bf16: 7
        case .q8_0, .q4_0: nil
        }
    }
}

/// How much of one layer's update the export keeps.
public struct PrecisionMeasure: Sendable, Equatable, Codable {
    /// Elements with a nonzero update.
    public var changed: Int
    /// Of those, elements whose update is below half a storage step of the merged weight: they round back to
    /// (about) the base value and the adapter's change vanishes there.
    public var belowHalfStep: Int
    /// The largest |update|.
    public var maxUpdate: Float

    /// Fraction of changed elements that vanish (0 when nothing changed).
    public var vanishedFraction: Double { changed == 0 ? 0 : Double(belowHalfStep) / Double(changed) }
}

/// Per-layer precision measures of a merge, and the verdict.
public struct MergeReport: Sendable, Codable {
    public var layers: [String: PrecisionMeasure] = [:]

    public init() {}

    mutating func add(module: String, _ measure: PrecisionMeasure) { layers[module] = measure }

    /// All layers together.
    public var total: PrecisionMeasure {
        layers.values.reduce(PrecisionMeasure(changed: 0, belowHalfStep: 0, maxUpdate: 0)) {
            PrecisionMeasure(changed: $0.changed + $1.changed, belowHalfStep: $0.belowHalfStep + $1.belowHalfStep,
                             maxUpdate: max($0.maxUpdate, $1.maxUpdate))
        }
    }

    /// A warning when most of the update falls below the export's precision, else nil.
    public func warning(precision: ExportPrecision, threshold: Double = 0.5) -> String? {
        let t = total
        guard t.changed > 0 else { return layers.isEmpty ? nil : "the adapter changes no weight (lora_B is all zeros?)" }
        guard t.vanishedFraction > threshold else { return nil }
        let percent = (t.vanishedFraction * 1000).rounded() / 10
        return "\(percent)% of the adapter's weight updates are below half a \(precision.rawValue) step of the merged weight "
            + "(largest |update| \(t.maxUpdate)) and vanish in the export; hint: export as f32 (or f16), or keep the adapter separate"
    }
}

/// Measuring updates against the step of the storage type.
public enum PrecisionCheck {
    /// Half the storage step at `x` for a float type with `bits` mantissa bits: ulp(x)/2 = 2^(exponent − bits − 1).
    @inline(__always) static func halfULP(_ x: Float, bits: Int) -> Float {
        let m = abs(x)
        guard m.isNormal else { return Float(sign: .plus, exponent: -126 - bits - 1, significand: 1) }
        return Float(sign: .plus, exponent: m.exponent - bits - 1, significand: 1)
    }

    /// Counts the updates of `delta` that fall below half a step of `merged` (both `[N, K]` f32, row-major).
    public static func measure(merged: Tensor, delta: [Float], precision: ExportPrecision) -> PrecisionMeasure {
        let w = merged.converted(to: .f32).floats()
        var changed = 0, below = 0
        var maxUpdate: Float = 0
        let k = merged.shape.last ?? 1
        if let bits = precision.mantissaBits {
            for i in w.indices where delta[i] != 0 {
                changed += 1
                maxUpdate = max(maxUpdate, abs(delta[i]))
                if abs(delta[i]) < halfULP(w[i], bits: bits) { below += 1 }
            }
        } else {
            // Blocks of 32 along the row: Q8_0 steps by d = amax/127, Q4_0 by d = amax/8.
            let levels: Float = precision == .q8_0 ? 127 : 8
            var start = 0
            while start < w.count {
                let end = min(start + min(32, k), w.count)
                var amax: Float = 0
                for i in start..<end { amax = max(amax, abs(w[i])) }
                let half = amax / levels / 2
                for i in start..<end where delta[i] != 0 {
                    changed += 1
                    maxUpdate = max(maxUpdate, abs(delta[i]))
                    if abs(delta[i]) < half { below += 1 }
                }
                start = end
            }
        }
        return PrecisionMeasure(changed: changed, belowHalfStep: below, maxUpdate: maxUpdate)
    }
}
