// Reference quantizers for Q8_0, Q4_0 and Q4_1, bit-exact with gguf-py's numpy code (spec §4.2). Used for GGUF
// export; the K-quant encoders are heuristic searches and are deliberately not replicated.
import TailorTensor

/// Quantizes f32 values into GGML blocks.
public enum GGMLQuantize {
    /// Types `quantize` supports.
    public static let supportedTypes: [GGMLType] = [.Q8_0, .Q4_0, .Q4_1]

    /// Encodes `values` (a multiple of 32) as `type` blocks.
    public static func quantize(_ type: GGMLType, _ values: UnsafeBufferPointer<Float>) throws -> [UInt8] {
        guard values.count % 32 == 0 else {
            throw FormatError.invalidArgument(reason: "\(type) needs a multiple of 32 values, got \(values.count)")
        }
        let (_, blockBytes) = type.blockLayout
        var out = [UInt8](repeating: 0, count: values.count / 32 * blockBytes)
        let encode: (UnsafePointer<Float>, UnsafeMutableRawPointer) -> Void
        switch type {
        case .Q8_0: encode = q8_0
        case .Q4_0: encode = q4_0
        case .Q4_1: encode = q4_1
        default: throw FormatError.invalidArgument(reason: "\(type) has no reference quantizer (supported: Q8_0, Q4_0, Q4_1)")
        }
        guard let src = values.baseAddress else { return out }
        out.withUnsafeMutableBytes { raw in
            guard let dst = raw.baseAddress else { return }
            for b in 0..<(values.count / 32) { encode(src + 32 * b, dst + blockBytes * b) }
        }
        return out
    }

    /// Convenience over an array.
    public static func quantize(_ type: GGMLType, _ values: [Float]) throws -> [UInt8] {
        try values.withUnsafeBufferPointer { try quantize(type, $0) }
    }

    @inline(__always) static func storeHalf(_ value: Float, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: HalfConversion.f16(from: value).littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// numpy's `np_roundf` in gguf-py: round half away from zero, computed as floor(a) + floor(2(a − floor a)).
    @inline(__always) static func roundHalfAway(_ x: Float) -> Float {
        let a = abs(x)
        let floored = a.rounded(.down)
        let b = floored + (2 * (a - floored)).rounded(.down)
        return x < 0 ? -b : (x > 0 ? b : 0)
    }

    /// Q8_0: d = max|x| / 127 in f32; q = round(x · (1/d)); d stored as f16 (the f32 d is used to quantize).
    static func q8_0(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d == 0 ? 0 : 1 / d
        storeHalf(d, block, 0)
        for j in 0..<32 {
            block.storeBytes(of: Int8(roundHalfAway(x[j] * id)), toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// Packs 32 4-bit codes: byte j holds code j (low nibble) and code j + 16 (high nibble).
    @inline(__always) static func packNibbles(_ q: [UInt8], _ block: UnsafeMutableRawPointer, at offset: Int) {
        for j in 0..<16 { block.storeBytes(of: q[j] | (q[j + 16] << 4), toByteOffset: offset + j, as: UInt8.self) }
    }

    /// Nibble code as numpy computes it: trunc in f32, cast to uint8, clip to 15.
    @inline(__always) static func code(_ v: Float) -> UInt8 {
        let t = v.rounded(.towardZero)
        return t >= 15 ? 15 : (t > 0 ? UInt8(t) : 0)
    }

    /// Q4_0: `max` = the signed value of largest magnitude (first on ties); d = max / −8; q = min(15, trunc(x/d + 8.5)).
    static func q4_0(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        var best: Float = 0, bestAbs: Float = -1
        for j in 0..<32 where abs(x[j]) > bestAbs { bestAbs = abs(x[j]); best = x[j] }
        let d = best / -8
        let id: Float = d == 0 ? 0 : 1 / d
        storeHalf(d, block, 0)
        packNibbles((0..<32).map { code(x[$0] * id + 8.5) }, block, at: 2)
    }

    /// Q4_1: d = (max − min) / 15, m = min; q = min(15, trunc((x − min)/d + 0.5)).
    static func q4_1(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        var lo = x[0], hi = x[0]
        for j in 1..<32 { lo = min(lo, x[j]); hi = max(hi, x[j]) }
        let d = (hi - lo) / 15
        let id: Float = d == 0 ? 0 : 1 / d
        storeHalf(d, block, 0)
        storeHalf(lo, block, 2)
        packNibbles((0..<32).map { code((x[$0] - lo) * id + 0.5) }, block, at: 4)
    }
}
