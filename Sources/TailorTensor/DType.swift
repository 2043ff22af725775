// Element types a tensor can be stored in. Compute is always f32; the others are storage formats.

/// The storage type of a tensor's elements.
public enum DType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case f32, f16, bf16, f64, i32, i64, u8

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .f64, .i64: 8
        case .u8: 1
        }
    }

    /// True for the floating-point formats that convert to and from f32.
    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64: true
        case .i32, .i64, .u8: false
        }
    }

    public var description: String { rawValue }
}

/// Conversions between f32 and the 16-bit float formats, round-to-nearest-even as torch does.
public enum HalfConversion {
    /// bf16 bits → f32 (exact).
    @inlinable public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// f32 → bf16 bits, round-to-nearest-even; NaNs stay quiet NaNs.
    @inlinable public static func bf16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: (bits | 0x0040_0000) >> 16) }
        let rounding = ((bits >> 16) & 1) &+ 0x7FFF
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// f16 bits → f32 (exact).
    @inlinable public static func float(fromF16 bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// f32 → f16 bits, round-to-nearest-even.
    @inlinable public static func f16(from value: Float) -> UInt16 {
        Float16(value).bitPattern
    }
}
