// Reading and writing Linear4bit state dicts: a transformers-saved 4-bit tiny Llama, round trips, named errors.
import Foundation
import TailorQuantization
import TailorTensor
import XCTest

final class StateDictTests: XCTestCase {
    /// Every 4-bit linear of the transformers-written folder loads, dequantizes exactly as bnb, and writes back
    /// the very same tensors (names, dtypes, shapes, bytes).
    func testTransformersTinyLlamaReadDequantizeAndRewrite() throws {
        let stateDict = try Fixtures.safetensors("tiny_llama_4bit/model.safetensors")
        let expected = try Fixtures.safetensors("tiny_llama_4bit_dequant.safetensors")
        let prefixes = QuantizedFourBitMatrix.modulePrefixes(in: stateDict.keys)
        XCTAssertEqual(prefixes.count, 14)  // 2 layers × (q, k, v, o, gate, up, down)
        var written: Set<String> = []
        for prefix in prefixes {
            let m = try QuantizedFourBitMatrix(stateDict: stateDict, prefix: prefix)
            XCTAssertEqual(m.type, .nf4)
            XCTAssertTrue(m.isNested)
            XCTAssertEqual(m.originalDType, .bf16)
            let reference = try XCTUnwrap(expected["\(prefix).weight"])
            XCTAssertEqual(m.shape, reference.shape)
            XCTAssertEqual(m.dequantizeAll().bytes, reference.bytes, "\(prefix) dequantized bf16")
            XCTAssertEqual(m.dequantizedRows(3..<5).converted(to: .bf16).bytes, reference.rows(3..<5).bytes, prefix)
            for (name, tensor) in m.stateDictTensors(prefix: prefix) {
                let original = try XCTUnwrap(stateDict[name], name)
                XCTAssertEqual(tensor.dtype, original.dtype, name)
                XCTAssertEqual(tensor.shape, original.shape, name)
                XCTAssertEqual(tensor.bytes, original.bytes, name)
                written.insert(name)
            }
        }
        // All quantization entries are produced; what is left is unquantized (norms, embeddings, lm_head).
        let rest = Set(stateDict.keys).subtracting(written)
        XCTAssertTrue(rest.allSatisfy { !$0.contains("proj.weight") }, "\(rest.sorted())")
        XCTAssertEqual(written.count, 14 * 6)
    }

    func testQuantizationConfigDecodesAndRendersLikeTransformers() throws {
        let text = try String(contentsOf: try Fixtures.url("tiny_llama_4bit/config.json"), encoding: .utf8)
        struct ModelConfig: Decodable { let quantization_config: BitsAndBytesConfig }
        let config = try JSONDecoder().decode(ModelConfig.self, from: Data(text.utf8)).quantization_config
        XCTAssertEqual(config, BitsAndBytesConfig())  // the QLoRA preset
        XCTAssertEqual(config.quantizer, FourBitQuantizer(type: .nf4, blockSize: 64, doubleQuant: true))
        XCTAssertEqual(config.computeTensorDType, .bf16)
        XCTAssertTrue(text.contains("\"quantization_config\": " + config.pythonJSON() + ",\n"), config.pythonJSON())
        // Encoding then decoding is lossless and keeps the explicit null.
        let encoded = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(BitsAndBytesConfig.self, from: encoded), config)
        XCTAssertTrue(String(decoding: encoded, as: UTF8.self).contains("\"llm_int8_skip_modules\":null"))
    }

    func testQuantizerConfigValidatesOnDecode() throws {
        let good = #"{"type": "fp4", "blockSize": 128, "doubleQuant": false}"#
        XCTAssertEqual(try JSONDecoder().decode(FourBitQuantizer.self, from: Data(good.utf8)),
                       FourBitQuantizer(type: .fp4, blockSize: 128, doubleQuant: false))
        XCTAssertThrowsError(try JSONDecoder().decode(FourBitQuantizer.self, from: Data(#"{"blockSize": 100}"#.utf8))) {
            XCTAssertEqual($0 as? QuantizationError, .invalidBlockSize(100))
        }
    }

    func testBadQuantizationConfigThrows() {
        let bad = #"{"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_type": "int4"}"#
        XCTAssertThrowsError(try JSONDecoder().decode(BitsAndBytesConfig.self, from: Data(bad.utf8))) {
            XCTAssertEqual($0 as? QuantizationError,
                           .unknownQuantType("int4", source: "quantization_config.bnb_4bit_quant_type"))
        }
        let gptq = #"{"quant_method": "gptq"}"#
        XCTAssertThrowsError(try JSONDecoder().decode(BitsAndBytesConfig.self, from: Data(gptq.utf8)))
    }

    /// Our quantizer's state dict parses back to an identical matrix (plain and nested, odd count).
    func testOwnStateDictRoundTrip() throws {
        let values = (0..<(7 * 9)).map { Float(sin(Double($0) * 0.37)) }
        for doubleQuant in [false, true] {
            let m = try FourBitQuantizer(type: .fp4, blockSize: 32, doubleQuant: doubleQuant)
                .quantize(Tensor(shape: [7, 9], values: values))
            let entries = m.stateDictTensors(prefix: "lm.fc")
            let dict = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.tensor) })
            let back = try QuantizedFourBitMatrix(stateDict: dict, prefix: "lm.fc")
            XCTAssertEqual(back.dequantizeAll().bytes, m.dequantizeAll().bytes)
            XCTAssertEqual(back.quantState, m.quantState)
            XCTAssertEqual(entries.map(\.name).last, "lm.fc.weight.quant_state.bitsandbytes__fp4")
        }
    }

    /// bnb's `quant_storage=torch.bfloat16` (FSDP) keeps the same bytes viewed as bf16 `[bytes / 2, 1]`.
    func testPackedBytesStoredAsOtherDType() throws {
        var (dict, prefix) = try sample()
        let packed = try XCTUnwrap(dict["p.weight"])
        let reference = try QuantizedFourBitMatrix(stateDict: dict, prefix: prefix).dequantizeAll().bytes
        dict["p.weight"] = packed.withUnsafeRawBytes { Tensor(shape: [packed.count / 2, 1], dtype: .bf16, copying: $0) }
        XCTAssertEqual(try QuantizedFourBitMatrix(stateDict: dict, prefix: prefix).dequantizeAll().bytes, reference)
    }

    func testUnpackedQuantStateForm() throws {
        let stateDict = try Fixtures.safetensors("tiny_llama_4bit/model.safetensors")
        let prefix = "model.layers.1.mlp.up_proj"
        let key = "\(prefix).weight.quant_state.bitsandbytes__nf4"
        let packed = try BnbQuantState(packed: try XCTUnwrap(stateDict[key]).bytes, source: key)
        var stripped = stateDict
        stripped[key] = nil
        let fields: [String: QuantStateField] = [
            "\(prefix).weight.quant_type": .string("nf4"), "\(prefix).weight.blocksize": .integer(64),
            "\(prefix).weight.dtype": .string("bfloat16"), "\(prefix).weight.shape": .integers(packed.shape),
            "\(prefix).weight.nested_blocksize": .integer(256), "\(prefix).weight.nested_dtype": .string("float32"),
            "\(prefix).weight.nested_offset": .number(Double(try XCTUnwrap(packed.nested?.offset))),
        ]
        let fromUnpacked = try QuantizedFourBitMatrix(stateDict: stripped, prefix: prefix, unpackedFields: fields)
        let fromPacked = try QuantizedFourBitMatrix(stateDict: stateDict, prefix: prefix)
        XCTAssertEqual(fromUnpacked.quantState, fromPacked.quantState)
        XCTAssertEqual(fromUnpacked.dequantizeAll().bytes, fromPacked.dequantizeAll().bytes)
    }

    // MARK: Named errors

    private func assertError(_ dict: [String: Tensor], prefix: String, _ expected: QuantizationError,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try QuantizedFourBitMatrix(stateDict: dict, prefix: prefix), file: file, line: line) {
            XCTAssertEqual($0 as? QuantizationError, expected, file: file, line: line)
            XCTAssertFalse(String(describing: $0).isEmpty)
        }
    }

    private func sample() throws -> (dict: [String: Tensor], prefix: String) {
        let m = try FourBitQuantizer(type: .nf4, blockSize: 64, doubleQuant: true)
            .quantize(Tensor(shape: [8, 64], values: (0..<512).map { Float($0 % 17) - 8 }))
        return (Dictionary(uniqueKeysWithValues: m.stateDictTensors(prefix: "p").map { ($0.name, $0.tensor) }), "p")
    }

    func testMissingQuantStateEntry() throws {
        var (dict, prefix) = try sample()
        dict["p.weight.quant_state.bitsandbytes__nf4"] = nil
        assertError(dict, prefix: prefix, .missingQuantState(prefix: "p"))
        XCTAssertTrue(QuantizationError.missingQuantState(prefix: "p").description
            .contains("p.weight.quant_state.bitsandbytes__nf4"))
    }

    func testUnknownQuantType() throws {
        var (dict, prefix) = try sample()
        let blob = try XCTUnwrap(dict.removeValue(forKey: "p.weight.quant_state.bitsandbytes__nf4"))
        dict["p.weight.quant_state.bitsandbytes__int4"] = blob
        assertError(dict, prefix: prefix, .unknownQuantType("int4", source: "p.weight.quant_state.bitsandbytes__int4"))
        // The JSON's own quant_type is checked too.
        var json = String(decoding: blob.bytes, as: UTF8.self)
        json = json.replacingOccurrences(of: "\"nf4\"", with: "\"af4\"")
        dict = try sample().dict
        dict["p.weight.quant_state.bitsandbytes__nf4"] = Tensor(u8: Array(json.utf8))
        assertError(dict, prefix: prefix,
                    .unknownQuantType("af4", source: "p.weight.quant_state.bitsandbytes__nf4"))
    }

    func testInconsistentShapesAndSizes() throws {
        let (dict, prefix) = try sample()
        var wrongBytes = dict
        wrongBytes["p.weight"] = Tensor(zeros: [255, 1], dtype: .u8)
        assertError(wrongBytes, prefix: prefix, .inconsistentShape(
            tensor: "p.weight", expected: "256 packed bytes for shape [8, 64]", found: "255 bytes (Tensor(u8, [255, 1]))"))
        var wrongCodes = dict
        wrongCodes["p.weight.absmax"] = Tensor(zeros: [9], dtype: .u8)
        assertError(wrongCodes, prefix: prefix,
                    .inconsistentShape(tensor: "p.weight.absmax", expected: "8 elements", found: "9 (shape [9])"))
        var wrongNested = dict
        wrongNested["p.weight.nested_absmax"] = Tensor(zeros: [2], dtype: .f32)
        assertError(wrongNested, prefix: prefix,
                    .inconsistentShape(tensor: "p.weight.nested_absmax", expected: "1 elements", found: "2 (shape [2])"))
        var wrongType = dict
        wrongType["p.weight.absmax"] = Tensor(zeros: [8], dtype: .f32)
        assertError(wrongType, prefix: prefix, .wrongDType(tensor: "p.weight.absmax", expected: [.u8], found: .f32))
        var wrongMap = dict
        wrongMap["p.weight.quant_map"] = Tensor(zeros: [15], dtype: .f32)
        assertError(wrongMap, prefix: prefix,
                    .inconsistentShape(tensor: "p.weight.quant_map", expected: "16 values", found: "15 (shape [15])"))
        var missing = dict
        missing["p.weight.nested_quant_map"] = nil
        assertError(missing, prefix: prefix, .missingTensor(name: "p.weight.nested_quant_map"))
    }

    func testCorruptAndDuplicateQuantStates() throws {
        var (dict, prefix) = try sample()
        dict["p.weight.quant_state.bitsandbytes__fp4"] = Tensor(zeros: [2], dtype: .u8)
        assertError(dict, prefix: prefix, .multipleQuantStates(keys: [
            "p.weight.quant_state.bitsandbytes__fp4", "p.weight.quant_state.bitsandbytes__nf4"]))
        XCTAssertThrowsError(try BnbQuantState(packed: Array("{\"quant_type\": \"nf4\"}".utf8), source: "x")) {
            XCTAssertEqual($0 as? QuantizationError,
                           .corruptQuantState(source: "x", reason: "missing or mistyped field 'blocksize'"))
        }
        XCTAssertThrowsError(try BnbQuantState(packed: Array("not json".utf8), source: "x"))
        let f64 = #"{"quant_type": "nf4", "blocksize": 64, "dtype": "float64", "shape": [2]}"#
        XCTAssertThrowsError(try BnbQuantState(packed: Array(f64.utf8), source: "x")) {
            XCTAssertEqual($0 as? QuantizationError, .unknownDTypeName("float64", field: "dtype"))
        }
    }
}
