// Dequantization of packed 4-bit weights: a naive per-element oracle and a fast tile kernel (byte → value-pair
// look-up table, one scale per block), both bit-exact with bitsandbytes' `dequantize_4bit`.
import TailorTensor

/// For each byte value, the pair (code book[high nibble], code book[low nibble]): element 2k then 2k+1.
struct PairTable: Sendable {
    let pairs: [SIMD2<Float>]

    init(_ codebook: [Float]) {
        pairs = (0..<256).map { SIMD2(codebook[$0 >> 4], codebook[$0 & 0xF]) }
    }

    static let nf4 = PairTable(NF4.codebook)
    static let fp4 = PairTable(FP4.codebook)

    static func of(_ type: FourBitType) -> PairTable {
        switch type {
        case .nf4: nf4
        case .fp4: fp4
        }
    }
}

extension QuantizedFourBitMatrix {
    /// Dequantizes rows `rows` of the outermost dimension into `out` (`rows.count * rowLength` f32 values).
    ///
    /// Values are `codebook[code] * absmax[block]` in f32, exactly bnb's `dequantize_4bit` before its final cast.
    /// Works tile by tile: only the requested rows are touched and nothing else is allocated.
    public func dequantizeRows(_ rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= rowCount, "rows \(rows) out of 0..<\(rowCount)")
        dequantizeElements((rows.lowerBound * rowLength)..<(rows.upperBound * rowLength), into: out)
    }

    /// Dequantizes rows `rows` into `out` as bf16 bits (round to nearest even), `rows.count * rowLength` values.
    public func dequantizeRows(_ rows: Range<Int>, intoBF16 out: UnsafeMutablePointer<UInt16>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= rowCount, "rows \(rows) out of 0..<\(rowCount)")
        dequantize((rows.lowerBound * rowLength)..<(rows.upperBound * rowLength),
                   into: BF16Sink(base: UnsafeMutableRawPointer(out)))
    }

    /// Rows `rows` as an f32 tensor `[rows.count, rowLength]` (a tile; the rest of the weight stays packed).
    public func dequantizedRows(_ rows: Range<Int>) -> Tensor {
        var tile = Tensor(uninitialized: [rows.count, rowLength], dtype: .f32)
        tile.withUnsafeMutableFloats { out in
            if let base = out.baseAddress { dequantizeRows(rows, into: base) }
        }
        return tile
    }

    /// The whole weight, dequantized and cast to `dtype` (default: the original dtype, as bnb returns).
    public func dequantizeAll(as dtype: DType? = nil) -> Tensor {
        let target = dtype ?? originalDType
        var result = Tensor(uninitialized: shape, dtype: .f32)
        result.withUnsafeMutableFloats { out in
            if let base = out.baseAddress { dequantizeElements(0..<count, into: base) }
        }
        return result.converted(to: target)
    }

    /// Flattened elements `range` into `out` (`range.count` f32 values).
    public func dequantizeElements(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        dequantize(range, into: F32Sink(base: UnsafeMutableRawPointer(out)))
    }

    /// The fast kernel, specialised per output format.
    ///
    /// Blocks have an even size, so each byte lies inside one block. An odd start or end is handled by one scalar
    /// element; everything between goes two elements per byte through the pair table, four bytes per 8-lane step.
    private func dequantize<Sink: TileSink>(_ range: Range<Int>, into sink: Sink) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "elements \(range) out of 0..<\(count)")
        if range.isEmpty { return }
        let table = PairTable.of(type)
        let blockSize = blockSize, first = range.lowerBound
        packed.withUnsafeRawBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let src = bytes.baseAddress else { return }
            table.pairs.withUnsafeBufferPointer { pairBuffer in
                guard let pairs = pairBuffer.baseAddress else { return }
                withScaleReader { reader in
                    var i = first
                    if i & 1 == 1 {  // odd start: the low nibble of byte i/2
                        sink.store(pairs[Int(src[i >> 1])].y * reader.scale(ofBlock: i / blockSize), at: 0)
                        i += 1
                    }
                    while i < range.upperBound {
                        let block = i / blockSize
                        let segmentEnd = min(range.upperBound, (block + 1) * blockSize)
                        let scale = reader.scale(ofBlock: block)
                        let s8 = SIMD8<Float>(repeating: scale)
                        // i is even here; bytes i/2 ..< segmentEnd/2 hold whole pairs.
                        while i + 8 <= segmentEnd {
                            let b = src + (i >> 1)
                            let low = SIMD4(lowHalf: pairs[Int(b[0])], highHalf: pairs[Int(b[1])])
                            let high = SIMD4(lowHalf: pairs[Int(b[2])], highHalf: pairs[Int(b[3])])
                            sink.store(SIMD8(lowHalf: low, highHalf: high) * s8, at: i - first)
                            i += 8
                        }
                        while i + 2 <= segmentEnd {
                            let pair = pairs[Int(src[i >> 1])]
                            sink.store(pair.x * scale, at: i - first)
                            sink.store(pair.y * scale, at: i - first + 1)
                            i += 2
                        }
                        if i < segmentEnd {  // odd end: the high nibble of the last byte
                            sink.store(pairs[Int(src[i >> 1])].x * scale, at: i - first)
                            i += 1
                        }
                    }
                }
            }
        }
    }

    /// Naive oracle: element by element, straight from the description (bnb §1.3). For tests and odd layouts.
    public func dequantizeNaive() -> [Float] {
        let codebook = type.codebook
        let absmax = blockScales()
        return packed.withUnsafeRawBytes { raw in
            (0..<count).map { i in
                let byte = raw[i / 2]
                let code = i % 2 == 0 ? byte >> 4 : byte & 0xF
                return codebook[Int(code)] * absmax[i / blockSize]
            }
        }
    }
}

/// Where the kernel writes: index = element offset from the start of the requested range.
private protocol TileSink {
    func store(_ value: Float, at index: Int)
    func store(_ values: SIMD8<Float>, at index: Int)
}

private struct F32Sink: TileSink {
    let base: UnsafeMutableRawPointer

    @inline(__always) func store(_ value: Float, at index: Int) {
        base.storeBytes(of: value, toByteOffset: 4 * index, as: Float.self)
    }

    @inline(__always) func store(_ values: SIMD8<Float>, at index: Int) {
        base.storeBytes(of: values, toByteOffset: 4 * index, as: SIMD8<Float>.self)
    }
}

/// f32 → bf16 bits, round to nearest even, NaNs kept quiet: the same results as `HalfConversion.bf16(from:)`.
private struct BF16Sink: TileSink {
    let base: UnsafeMutableRawPointer

    @inline(__always) func store(_ value: Float, at index: Int) {
        base.storeBytes(of: HalfConversion.bf16(from: value), toByteOffset: 2 * index, as: UInt16.self)
    }

    @inline(__always) func store(_ values: SIMD8<Float>, at index: Int) {
        let bits = unsafeBitCast(values, to: SIMD8<UInt32>.self)
        var rounded = (bits &+ ((bits &>> 16) & 1) &+ 0x7FFF) &>> 16
        rounded.replace(with: (bits | 0x0040_0000) &>> 16, where: values .!= values)
        base.storeBytes(of: SIMD8<UInt16>(truncatingIfNeeded: rounded), toByteOffset: 2 * index, as: SIMD8<UInt16>.self)
    }
}
