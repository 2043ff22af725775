// bitsandbytes' 8-bit signed dynamic map, the code book of double quantization (quantized block scales).

/// The 256-value signed dynamic map (`create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)`).
public enum DynamicMap {
    /// The 256 f32 values, ascending: D[0] = -0.99296875, D[127] = 0, D[128] = 5.5e-7, D[255] = 1.
    public static let signed256: [Float] = makeSigned()

    /// The 255 f32 midpoints `(D[i] + D[i+1]) / 2` used for nearest-code quantization.
    public static let signed256Midpoints: [Float] = midpoints(of: signed256)

    /// Builds the map. For exponent level i = 0…6, `2^i + 1` points spaced from 0.1 to 1 by torch's linspace rule
    /// (first half counted up from the start, second half down from the end, each point one fused multiply-add
    /// rounded once to f32) give `2^i` means; each mean scaled by `f32(10^(i-6))` enters with both signs.
    /// With 0 and 1 that makes 256 values. A plain f32 `start + step * j` does not reproduce torch bit for bit.
    static func makeSigned() -> [Float] {
        var values: [Float] = []
        let start: Float = 0.1, end: Float = 1.0
        for i in 0..<7 {
            let count = (1 << i) + 1
            let step = (end - start) / Float(count - 1)
            let points: [Float] = (0..<count).map { j in
                j < count / 2
                    ? start.addingProduct(step, Float(j))
                    : end.addingProduct(-step, Float(count - 1 - j))
            }
            let scale = Float(pow10(i - 6))
            for j in 0..<(count - 1) {
                let mean = (points[j] + points[j + 1]) / 2
                values.append(scale * mean)
                values.append(-(scale * mean))
            }
        }
        values.append(0)
        values.append(1)
        return values.sorted()
    }

    /// 10^e as the f64 Python computes for `10 ** e` (exact power for e ≥ 0, correctly rounded otherwise).
    private static func pow10(_ e: Int) -> Double {
        switch e {
        case 0: 1
        case -1: 1e-1
        case -2: 1e-2
        case -3: 1e-3
        case -4: 1e-4
        case -5: 1e-5
        default: 1e-6
        }
    }

    static func midpoints(of map: [Float]) -> [Float] {
        (0..<(map.count - 1)).map { (map[$0] + map[$0 + 1]) / 2 }
    }

    /// Index of the nearest map entry: the number of midpoints strictly below `x` (ties take the lower index),
    /// found by binary search over the ascending midpoints.
    static func nearestCode(_ x: Float, midpoints: UnsafeBufferPointer<Float>) -> UInt8 {
        var low = 0, high = midpoints.count  // answer in low...high
        while low < high {
            let mid = (low + high) / 2
            if midpoints[mid] < x { low = mid + 1 } else { high = mid }
        }
        return UInt8(truncatingIfNeeded: low)
    }
}
