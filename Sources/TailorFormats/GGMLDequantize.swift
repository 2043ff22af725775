// Block decoders for the GGML quantized types we read (spec §4.2): Q8_0, Q4_0, Q4_1, Q4_K, Q6_K → f32.
// The arithmetic order matches ggml-quants.c and gguf-py's numpy code, so results are bit-identical.
import Dispatch
import TailorTensor

/// Dequantizes GGML blocks to f32.
public enum GGMLDequantize {
    /// Decodes `blockCount` blocks of `type` from `source` into `destination`
    /// (`blockCount × type.blockLayout.elements` floats). Work is split across cores for large tensors.
    public static func dequantize(_ type: GGMLType, _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let (blockElements, blockBytes) = type.blockLayout
        let blockCount = source.count / blockBytes
        guard source.count % blockBytes == 0, destination.count == blockCount * blockElements else {
            throw FormatError.invalidArgument(reason: "\(type): \(source.count) bytes do not decode to \(destination.count) values")
        }
        let decode: @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
        switch type {
        case .Q8_0: decode = q8_0
        case .Q4_0: decode = q4_0
        case .Q4_1: decode = q4_1
        case .Q4_K: decode = q4_K
        case .Q6_K: decode = q6_K
        default: throw FormatError.invalidArgument(reason: "\(type) has no block decoder")
        }
        guard let source = source.baseAddress, let destination = destination.baseAddress else { return }
        // Raw pointers are not Sendable; the chunks write disjoint ranges, so pass addresses as integers.
        let srcAddress = UInt(bitPattern: source), dstAddress = UInt(bitPattern: destination)
        // Chunks of ~64 K values keep the dispatch overhead negligible.
        let blocksPerChunk = max(1, 65_536 / blockElements)
        let chunks = (blockCount + blocksPerChunk - 1) / blocksPerChunk
        let work = { @Sendable (chunk: Int) in
            guard let src = UnsafeRawPointer(bitPattern: srcAddress),
                  let dst = UnsafeMutablePointer<Float>(bitPattern: dstAddress) else { return }
            let end = min(blockCount, (chunk + 1) * blocksPerChunk)
            for b in (chunk * blocksPerChunk)..<end {
                decode(src + b * blockBytes, dst + b * blockElements)
            }
        }
        if chunks > 1 { DispatchQueue.concurrentPerform(iterations: chunks, execute: work) } else if chunks == 1 { work(0) }
    }

    @inline(__always) static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfConversion.float(fromF16: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
    }

    /// Q8_0: f16 d, 32 × int8; x = q·d.
    static func q8_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        for j in 0..<32 { y[j] = Float(Int8(bitPattern: block.load(fromByteOffset: 2 + j, as: UInt8.self))) * d }
    }

    /// Q4_0: f16 d, 16 bytes; low nibbles are elements 0–15, high nibbles 16–31; x = (q − 8)·d.
    static func q4_0(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0)
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
            y[j] = Float(Int(byte & 0x0F) - 8) * d
            y[j + 16] = Float(Int(byte >> 4) - 8) * d
        }
    }

    /// Q4_1: f16 d, f16 m, 16 bytes (same nibble layout as Q4_0); x = q·d + m.
    static func q4_1(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0), m = half(block, 2)
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
            y[j] = Float(byte & 0x0F) * d + m
            y[j + 16] = Float(byte >> 4) * d + m
        }
    }

    /// The 6-bit scale and min of sub-block `j` packed in the 12 scale bytes of a Q4_K block.
    @inline(__always) static func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (Float, Float) {
        func b(_ i: Int) -> UInt8 { s.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 { return (Float(b(j) & 63), Float(b(j + 4) & 63)) }
        let sc = (b(j + 4) & 0x0F) | ((b(j - 4) >> 6) << 4)
        let m = (b(j + 4) >> 4) | ((b(j) >> 6) << 4)
        return (Float(sc), Float(m))
    }

    /// Q4_K: f16 d, f16 dmin, 12 scale bytes, 128 bytes qs; 256 values in 4 groups of 64: low nibbles with
    /// sub-block 2c, high nibbles with 2c+1; x = (d·sc)·q − dmin·m.
    static func q4_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0), dmin = half(block, 2)
        let scales = block + 4
        for c in 0..<4 {
            let (sc1, m1) = scaleMinK4(2 * c, scales)
            let (sc2, m2) = scaleMinK4(2 * c + 1, scales)
            let d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2
            let out = y + 64 * c
            for l in 0..<32 {
                let q = block.load(fromByteOffset: 16 + 32 * c + l, as: UInt8.self)
                out[l] = d1 * Float(q & 0x0F) - min1
                out[l + 32] = d2 * Float(q >> 4) - min2
            }
        }
    }

    /// Q6_K: 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 int8 scales, f16 d last; x = (d·sc)·(q − 32).
    static func q6_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 208)
        for h in 0..<2 {
            let ql = block + 64 * h, qh = block + 128 + 32 * h, sc = block + 192 + 8 * h
            let out = y + 128 * h
            func scale(_ i: Int) -> Float { d * Float(Int8(bitPattern: sc.load(fromByteOffset: i, as: UInt8.self))) }
            for l in 0..<32 {
                let s = l / 16
                let lo0 = ql.load(fromByteOffset: l, as: UInt8.self), lo1 = ql.load(fromByteOffset: l + 32, as: UInt8.self)
                let hi = qh.load(fromByteOffset: l, as: UInt8.self)
                let q1 = Int((lo0 & 0x0F) | ((hi >> 0) & 3) << 4) - 32
                let q2 = Int((lo1 & 0x0F) | ((hi >> 2) & 3) << 4) - 32
                let q3 = Int((lo0 >> 4) | ((hi >> 4) & 3) << 4) - 32
                let q4 = Int((lo1 >> 4) | ((hi >> 6) & 3) << 4) - 32
                out[l] = scale(s) * Float(q1)
                out[l + 32] = scale(s + 2) * Float(q2)
                out[l + 64] = scale(s + 4) * Float(q3)
                out[l + 96] = scale(s + 6) * Float(q4)
            }
        }
    }
}
