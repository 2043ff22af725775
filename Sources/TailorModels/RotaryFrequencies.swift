// Inverse frequencies of rotary position embeddings, bit-exact with transformers' rope initialisers.
import Foundation
import TailorFormats

public enum RotaryFrequencies {
    /// `inv[i] = 1 / base^(2i/D)` for i < D/2, computed as torch does: the exponent in f32, the power correctly
    /// rounded, the reciprocal in f32.
    public static func inverseFrequencies(base: Double, headDim: Int, scaling: RopeScaling? = nil) -> [Float] {
        let plain = (0..<(headDim / 2)).map { i -> Float in
            let exponent = Float(2 * i) / Float(headDim)
            return 1 / Float(Foundation.pow(base, Double(exponent)))
        }
        switch scaling {
        case nil: return plain
        case .longRoPE(let short, _, _, _, _): return longRoPE(base: base, headDim: headDim, factors: short)
        case .linear(let factor): return plain.map { $0 / Float(factor) }
        case .llama3(let factor64, let low64, let high64, let original):
            // transformers' _compute_llama3_parameters, each step an f32 tensor op.
            let (factor, low, high) = (Float(factor64), Float(low64), Float(high64))
            let lowWavelength = Float(original) / low, highWavelength = Float(original) / high
            return plain.map { inv in
                let wavelength = Float(2 * Double.pi) / inv
                let scaled = wavelength > lowWavelength ? inv / factor : inv
                let smooth = (Float(original) / wavelength - low) / (high - low)
                let smoothed = (1 - smooth) * scaled / factor + smooth * scaled
                let isMedium = !(wavelength < highWavelength) && !(wavelength > lowWavelength)
                return isMedium ? smoothed : scaled
            }
        }
    }

    /// LongRoPE's long set (nil without LongRoPE).
    public static func longInverseFrequencies(base: Double, headDim: Int, scaling: RopeScaling?) -> [Float]? {
        guard case .longRoPE(_, let long, _, _, _) = scaling else { return nil }
        return longRoPE(base: base, headDim: headDim, factors: long)
    }

    /// transformers' `_compute_longrope_parameters`: `1 / (f[i] · base^(2i/D))`, the product and reciprocal in f32.
    static func longRoPE(base: Double, headDim: Int, factors: [Double]) -> [Float] {
        (0..<(headDim / 2)).map { i -> Float in
            let exponent = Float(2 * i) / Float(headDim)
            let factor = i < factors.count ? Float(factors[i]) : 1
            return 1 / (factor * Float(Foundation.pow(base, Double(exponent))))
        }
    }
}
