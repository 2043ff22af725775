// The two 4-bit code books of bitsandbytes (NF4, FP4) and the rule that maps a scaled value to its 4-bit code.

/// The 4-bit data type of a bitsandbytes-quantized weight.
public enum FourBitType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// NormalFloat4: 16 normal-distribution quantiles in [-1, 1] (the QLoRA default).
    case nf4
    /// A sign bit plus a 3-bit float (2 exponent bits, 1 mantissa bit), scaled so the largest magnitude is 1.
    case fp4

    public var description: String { rawValue }

    /// The 16 code-book values, indexed by 4-bit code.
    public var codebook: [Float] {
        switch self {
        case .nf4: NF4.codebook
        case .fp4: FP4.codebook
        }
    }

    /// The 4-bit code of a value already scaled by the block's reciprocal absmax (see `NF4.code(for:)`).
    public func code(for scaled: Float) -> UInt8 {
        switch self {
        case .nf4: NF4.code(for: scaled)
        case .fp4: FP4.code(for: scaled)
        }
    }
}

/// The NF4 code book and its decision thresholds, exactly as bitsandbytes hard-codes them.
public enum NF4 {
    /// The 16 values; index = 4-bit code. Sorted ascending, so the code of a value is its bucket index.
    public static let codebook: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// The 15 f32 midpoints `(v[i] + v[i+1]) / 2`; equal to the constants of bnb's CUDA decision tree.
    public static let thresholds: [Float] = (0..<15).map { (codebook[$0] + codebook[$0 + 1]) / 2 }

    /// Number of thresholds strictly below `scaled`: values exactly on a midpoint take the lower code (torch
    /// `bucketize`, right=false). Clamping to [-1, 1] first, as bnb does, cannot change this count.
    public static func code(for scaled: Float) -> UInt8 {
        bucket(scaled, thresholds: thresholdTuple)
    }

    static let thresholdTuple = FourBitThresholds(NF4.thresholds)
}

/// The FP4 code book (bitsandbytes `get_4bit_type("fp4")`) and its quantizer.
public enum FP4 {
    /// Index = 4-bit code: bit 3 is the sign, bits 0–2 select 0, 0.0625, 8, 12, 4, 6, 2, 3; divided by 12 in f32.
    /// Code 8 is +0.0, not -0.0: bnb's table literal is the Python integer `-0`, which is plain 0.
    public static let codebook: [Float] = [0, 0.0625, 8, 12, 4, 6, 2, 3, 0, -0.0625, -8, -12, -4, -6, -2, -3]
        .map { Float($0) / 12 }

    /// Codes in ascending order of value, the two zeros (codes 0 and 8) in code order: bnb's `argsort`.
    public static let sortedCodes: [UInt8] = (0..<16).map { UInt8($0) }
        .sorted { (codebook[Int($0)], $0) < (codebook[Int($1)], $1) }

    /// f32 midpoints between consecutive sorted values.
    public static let thresholds: [Float] = (0..<15).map {
        (codebook[Int(sortedCodes[$0])] + codebook[Int(sortedCodes[$0 + 1])]) / 2
    }

    /// Nearest code by bucketing over the sorted code book, as bnb's CPU (pure torch) quantizer does.
    ///
    /// This differs from bnb's CUDA kernel only inside the zero band |s| ≤ 0.0026: there the CPU path gives
    /// positive values code 8 and negative ones code 0 (the CUDA kernel takes the sign bit from `s < 0`).
    /// Both codes dequantize to +0, so dequantized weights agree.
    public static func code(for scaled: Float) -> UInt8 {
        sortedCodes[Int(bucket(scaled, thresholds: thresholdTuple))]
    }

    static let thresholdTuple = FourBitThresholds(FP4.thresholds)
}

/// 15 ascending thresholds held in a fixed-size SIMD value so the bucket count is branch-free.
struct FourBitThresholds: Sendable {
    let lanes: SIMD16<Float>

    init(_ values: [Float]) {
        precondition(values.count == 15, "4-bit code books have 15 thresholds")
        var lanes = SIMD16<Float>(repeating: .infinity)
        for i in 0..<15 { lanes[i] = values[i] }
        lanes[15] = .infinity  // never below any finite value
        self.lanes = lanes
    }
}

/// Counts thresholds strictly below `x` (a NaN input counts none and gets bucket 0).
func bucket(_ x: Float, thresholds: FourBitThresholds) -> UInt8 {
    let below = thresholds.lanes .< SIMD16<Float>(repeating: x)
    return UInt8(truncatingIfNeeded: SIMD16<Int32>(repeating: 0).replacing(with: 1, where: below).wrappedSum())
}
