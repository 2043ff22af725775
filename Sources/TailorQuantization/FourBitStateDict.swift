// A 4-bit matrix as the tensors bitsandbytes' Linear4bit puts in a state dict (and back), for safetensors files.
import TailorTensor

extension QuantizedFourBitMatrix {
    /// The quant state describing this matrix (what bnb serialises as JSON).
    public var quantState: BnbQuantState {
        var state = BnbQuantState(quantType: type, blockSize: blockSize, dtype: originalDType, shape: shape)
        if case .nested(let nested) = scales {
            state.nested = .init(blockSize: nested.blockSize, dtype: .f32, offset: nested.offset)
        }
        return state
    }

    /// Module prefixes of every 4-bit weight in a state dict: the `P` of each `P.weight.quant_state.bitsandbytes__*`.
    public static func modulePrefixes<Keys: Sequence>(in names: Keys) -> [String] where Keys.Element == String {
        names.compactMap { name in
            name.range(of: ".weight.quant_state.bitsandbytes__").map { String(name[..<$0.lowerBound]) }
        }.sorted()
    }

    /// The state-dict entries of a Linear4bit weight for module `prefix` (e.g. `model.layers.0.self_attn.q_proj`),
    /// in bnb's order: `weight` (U8 `[bytes, 1]`), `weight.absmax`, `weight.quant_map`, then when nested
    /// `weight.nested_absmax`, `weight.nested_quant_map`, and last `weight.quant_state.bitsandbytes__<type>`
    /// (the JSON as U8). A bias, if any, is the caller's (it stays unquantized).
    public func stateDictTensors(prefix: String) -> [(name: String, tensor: Tensor)] {
        let weight = prefix.isEmpty ? "weight" : prefix + ".weight"
        let packedTensor = packed.dtype == .u8 ? packed.reshaped([packed.count, 1]) : packed
        var entries: [(name: String, tensor: Tensor)] = [(weight, packedTensor)]
        switch scales {
        case .absmax(let absmax):
            entries.append(("\(weight).absmax", absmax.reshaped([absmax.count])))
            entries.append(("\(weight).quant_map", Tensor(shape: [16], values: type.codebook)))
        case .nested(let nested):
            entries.append(("\(weight).absmax", nested.codes.reshaped([nested.codes.count])))
            entries.append(("\(weight).quant_map", Tensor(shape: [16], values: type.codebook)))
            entries.append(("\(weight).nested_absmax", nested.nestedAbsmax.reshaped([nested.nestedAbsmax.count])))
            entries.append(("\(weight).nested_quant_map", Tensor(shape: [nested.map.count], values: nested.map)))
        }
        let state = quantState
        entries.append(("\(weight).\(state.packedKey)", Tensor(shape: [state.json.utf8.count], dtype: .u8,
                                                                  bytes: Array(state.json.utf8))))
        return entries
    }

    /// Reads the 4-bit weight of module `prefix` from a transformers/bnb-written state dict (name → tensor).
    ///
    /// The quant state comes from the packed `weight.quant_state.bitsandbytes__nf4|fp4` entry, or from
    /// `unpackedFields` (bnb's unpacked form: `quant_type`, `blocksize`, `dtype`, `shape`, `nested_*`) when the
    /// dictionary has none. The stored `nested_quant_map` is used for the 8-bit scales, as bnb does; the 4-bit
    /// code book is bnb's built-in one (bnb ignores the stored `quant_map` too), but its size is checked.
    public init(stateDict: [String: Tensor], prefix: String,
                unpackedFields: [String: QuantStateField] = [:]) throws {
        let weight = prefix.isEmpty ? "weight" : prefix + ".weight"
        let stateKeys = stateDict.keys.filter { $0.hasPrefix("\(weight).quant_state.") }.sorted()
        let state: BnbQuantState
        if stateKeys.count > 1 {
            throw QuantizationError.multipleQuantStates(keys: stateKeys)
        } else if let key = stateKeys.first, let blob = stateDict[key] {
            let suffix = String(key.dropFirst("\(weight).quant_state.".count))
            guard suffix.hasPrefix("bitsandbytes__") else {
                throw QuantizationError.corruptQuantState(source: key, reason: "expected a bitsandbytes__nf4|fp4 key")
            }
            let suffixType = String(suffix.dropFirst("bitsandbytes__".count))
            guard let keyType = FourBitType(rawValue: suffixType) else {
                throw QuantizationError.unknownQuantType(suffixType, source: key)
            }
            state = try BnbQuantState(packed: blob.withUnsafeRawBytes { Array($0) }, source: key)
            guard state.quantType == keyType else {
                throw QuantizationError.corruptQuantState(
                    source: key, reason: "quant_type \(state.quantType) in the JSON disagrees with the key")
            }
        } else if !unpackedFields.isEmpty {
            state = try BnbQuantState(unpacked: unpackedFields, source: "\(weight) (unpacked quant state)")
        } else {
            throw QuantizationError.missingQuantState(prefix: prefix)
        }
        try self.init(stateDict: stateDict, weightName: weight, state: state)
    }

    /// Assembles the matrix from the tensors under `weightName` and a decoded quant state.
    public init(stateDict: [String: Tensor], weightName weight: String, state: BnbQuantState) throws {
        func tensor(_ name: String) throws -> Tensor {
            guard let found = stateDict[name] else { throw QuantizationError.missingTensor(name: name) }
            return found
        }
        let packed = try tensor(weight)
        let absmax = try tensor("\(weight).absmax")
        let quantMap = try tensor("\(weight).quant_map")
        guard quantMap.count == 16 else {
            throw QuantizationError.inconsistentShape(tensor: "\(weight).quant_map", expected: "16 values",
                                                      found: "\(quantMap.count) (shape \(quantMap.shape))")
        }
        let scales: FourBitScales
        if let nested = state.nested {
            let map = try tensor("\(weight).nested_quant_map")
            guard map.dtype == .f32 else {
                throw QuantizationError.wrongDType(tensor: "\(weight).nested_quant_map", expected: [.f32], found: map.dtype)
            }
            scales = .nested(NestedScales(codes: absmax, nestedAbsmax: try tensor("\(weight).nested_absmax"),
                                          offset: nested.offset, map: map.floats(), blockSize: nested.blockSize))
        } else {
            scales = .absmax(absmax)
        }
        try self.init(shape: state.shape, type: state.quantType, blockSize: state.blockSize, packed: packed,
                      scales: scales, originalDType: state.dtype, name: weight)
    }
}
