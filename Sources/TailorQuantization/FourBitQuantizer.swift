// bitsandbytes-compatible 4-bit blockwise quantization (NF4/FP4) with optional double quantization of the scales.
import TailorTensor

/// Settings of 4-bit quantization: `bnb_4bit_quant_type`, `blocksize` and `bnb_4bit_use_double_quant`.
public struct FourBitQuantizer: Sendable, Hashable, Codable {
    /// NF4 (QLoRA default) or FP4.
    public var type: FourBitType
    /// Elements per block: a power of two from 32 to 4096 (bitsandbytes default 64).
    public var blockSize: Int
    /// Quantize the f32 block scales to 8 bits (blocks of 256, mean offset) to save ~0.37 bits per weight.
    public var doubleQuant: Bool

    /// Codes per block when double-quantizing the scales (fixed by bitsandbytes).
    public static let nestedBlockSize = 256

    /// The QLoRA recipe: NF4, block size 64, double quantization.
    public init(type: FourBitType = .nf4, blockSize: Int = 64, doubleQuant: Bool = true) {
        self.type = type
        self.blockSize = blockSize
        self.doubleQuant = doubleQuant
    }

    enum CodingKeys: String, CodingKey { case type, blockSize, doubleQuant }

    /// Decodes and validates (`invalidBlockSize` for a block size bnb would reject).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(FourBitType.self, forKey: .type) ?? .nf4
        blockSize = try c.decodeIfPresent(Int.self, forKey: .blockSize) ?? 64
        doubleQuant = try c.decodeIfPresent(Bool.self, forKey: .doubleQuant) ?? true
        guard Self.isValidBlockSize(blockSize) else { throw QuantizationError.invalidBlockSize(blockSize) }
    }

    /// True for 32, 64, …, 4096.
    public static func isValidBlockSize(_ size: Int) -> Bool {
        size >= 32 && size <= 4096 && size & (size - 1) == 0
    }

    /// Quantizes an f32, bf16 or f16 tensor of any shape, bit-exact with bitsandbytes' `quantize_4bit` on CPU.
    ///
    /// Per block: absmax = max |x| (f32); s = x * (1/absmax) with the reciprocal computed once in f32 (the last,
    /// partial block divides instead, as torch's reference kernel does); code = bucket of s among the code
    /// book's midpoints. An all-zero block gets the code of 0 everywhere and absmax 0 (a zero partial last block
    /// stores the 1e-38 clamp, like bnb).
    public func quantize(_ tensor: Tensor) throws -> QuantizedFourBitMatrix {
        guard Self.isValidBlockSize(blockSize) else { throw QuantizationError.invalidBlockSize(blockSize) }
        guard [.f32, .bf16, .f16].contains(tensor.dtype) else {
            throw QuantizationError.unsupportedInputDType(tensor.dtype)
        }
        let n = tensor.count
        var packed = Tensor(zeros: [(n + 1) / 2], dtype: .u8)
        var absmax = Tensor(zeros: [(n + blockSize - 1) / blockSize], dtype: .f32)
        let type = type, blockSize = blockSize
        tensor.withUnsafeRawBytes { source in
            packed.withUnsafeMutableRawBytes { packedBytes in
                absmax.withUnsafeMutableFloats { absmaxOut in
                    let bytes = packedBytes.bindMemory(to: UInt8.self)
                    var values = [Float](repeating: 0, count: blockSize)
                    var codes = [UInt8](repeating: 0, count: blockSize + 1)
                    for b in 0..<absmaxOut.count {
                        let start = b * blockSize, length = min(blockSize, n - start)
                        readFloats(source, dtype: tensor.dtype, from: start, count: length, into: &values)
                        absmaxOut[b] = Self.quantizeBlock(values[0..<length], partial: length < blockSize, type: type,
                                                          codes: &codes)
                        // Pad an odd tail with code(0) (bnb pads the scaled values with a zero).
                        if length % 2 == 1 { codes[length] = type.code(for: 0) }
                        for k in stride(from: 0, to: length, by: 2) {
                            bytes[(start + k) / 2] = codes[k] << 4 | codes[k + 1]
                        }
                    }
                }
            }
        }
        let scales: FourBitScales = doubleQuant ? .nested(Self.doubleQuantize(absmax)) : .absmax(absmax)
        return try QuantizedFourBitMatrix(shape: tensor.shape, type: type, blockSize: blockSize,
                                          packed: packed.reshaped([(n + 1) / 2]), scales: scales,
                                          originalDType: tensor.dtype)
    }

    /// Codes of one block; returns the absmax to store.
    private static func quantizeBlock(_ values: ArraySlice<Float>, partial: Bool, type: FourBitType,
                                      codes: inout [UInt8]) -> Float {
        let absmax = values.reduce(Float(0)) { max($0, abs($1)) }
        let clamped = max(absmax, Float(1e-38))
        if partial {
            for (k, x) in values.enumerated() { codes[k] = type.code(for: x / clamped) }
            return clamped
        }
        let reciprocal = 1 / clamped
        for (k, x) in values.enumerated() { codes[k] = type.code(for: x * reciprocal) }
        return absmax
    }

    /// Double quantization of f32 block scales: offset = mean (f64 sum, rounded once to f32), then 8-bit
    /// blockwise quantization of `absmax - offset` with the signed dynamic map in blocks of 256.
    public static func doubleQuantize(_ absmax: Tensor) -> NestedScales {
        let values = absmax.floats()
        let sum = values.reduce(0.0) { $0 + Double($1) }
        let offset = values.isEmpty ? 0 : Float(sum / Double(values.count))
        return doubleQuantize(absmax, offset: offset)
    }

    /// Double quantization with a given offset (bitsandbytes' torch mean can differ from ours by an ulp; tests
    /// pass bnb's offset here to compare codes exactly).
    public static func doubleQuantize(_ absmax: Tensor, offset: Float) -> NestedScales {
        let centred = absmax.floats().map { $0 - offset }
        let m = centred.count, nb = nestedBlockSize
        var codes = [UInt8](repeating: 0, count: m)
        var nested = [Float](repeating: 0, count: (m + nb - 1) / nb)
        DynamicMap.signed256Midpoints.withUnsafeBufferPointer { midpoints in
            for j in nested.indices {
                let range = (j * nb)..<min(m, (j + 1) * nb)
                let blockMax = centred[range].reduce(Float(0)) { max($0, abs($1)) }
                let clamped = max(blockMax, Float(1e-38))
                let partial = range.count < nb
                nested[j] = partial ? clamped : blockMax
                let reciprocal = 1 / clamped
                for i in range {
                    // Same clamp and multiply/divide split as the 4-bit step (torch reference kernel).
                    let t = partial ? centred[i] / clamped : centred[i] * reciprocal
                    codes[i] = DynamicMap.nearestCode(min(max(t, -1), 1), midpoints: midpoints)
                }
            }
        }
        return NestedScales(codes: Tensor(shape: [m], dtype: .u8, bytes: codes),
                            nestedAbsmax: Tensor(shape: [nested.count], values: nested), offset: offset)
    }
}

/// Reads `count` elements starting at `start` of an f32/bf16/f16 buffer as f32.
func readFloats(_ raw: UnsafeRawBufferPointer, dtype: DType, from start: Int, count: Int, into out: inout [Float]) {
    switch dtype {
    case .bf16:
        for k in 0..<count {
            out[k] = HalfConversion.float(fromBF16: raw.loadUnaligned(fromByteOffset: 2 * (start + k), as: UInt16.self))
        }
    case .f16:
        for k in 0..<count {
            out[k] = HalfConversion.float(fromF16: raw.loadUnaligned(fromByteOffset: 2 * (start + k), as: UInt16.self))
        }
    default:
        for k in 0..<count { out[k] = raw.loadUnaligned(fromByteOffset: 4 * (start + k), as: Float.self) }
    }
}

extension Tensor {
    /// A U8 tensor holding `bytes`.
    init(shape: [Int], dtype: DType, bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { Tensor(shape: shape, dtype: dtype, copying: $0) }
    }
}
