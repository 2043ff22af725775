// Quantization and dequantization against bitsandbytes 0.50.2 on CPU (fixtures from tools/reference/quant_bnb.py).
import TailorQuantization
import TailorTensor
import XCTest

final class BnbFixtureTests: XCTestCase {
    struct Case {
        let id: String, type: FourBitType, blockSize: Int, dtype: DType, shape: [Int], nested: Bool, json: String
        /// False where bnb's CPU C dequant kernel disagrees with bnb's own pure-torch reference kernel.
        let bnbCPUMatchesReference: Bool
    }

    static func load() throws -> (cases: [Case], tensors: [String: Tensor]) {
        let manifest = try Fixtures.json("quant_cases.json")
        let raw = try XCTUnwrap(manifest["cases"] as? [[String: Any]])
        let cases = try raw.map { c in
            Case(id: try XCTUnwrap(c["id"] as? String),
                 type: try XCTUnwrap(FourBitType(rawValue: try XCTUnwrap(c["quant_type"] as? String))),
                 blockSize: try XCTUnwrap(c["blocksize"] as? Int),
                 dtype: try BnbQuantState.dtype(named: try XCTUnwrap(c["dtype"] as? String), field: "dtype"),
                 shape: try XCTUnwrap(c["shape"] as? [Int]), nested: try XCTUnwrap(c["nested"] as? Bool),
                 json: try XCTUnwrap(c["quant_state_json"] as? String),
                 bnbCPUMatchesReference: try XCTUnwrap(c["bnb_cpu_matches_reference"] as? Bool))
        }
        return (cases, try Fixtures.safetensors("quant_cases.safetensors"))
    }

    /// Our quantizer reproduces bnb's packed bytes and absmax exactly; with double quantization the 8-bit codes
    /// equal the exact-nearest codes (given bnb's offset, and given our own f64-mean offset).
    func testQuantizeMatchesBnbBitForBit() throws {
        let (cases, t) = try Self.load()
        XCTAssertEqual(cases.count, 39)
        var nestedCodes = 0, nestedCodesOffByOne = 0
        for c in cases {
            let input = try XCTUnwrap(t["\(c.id).input"])
            let q = try FourBitQuantizer(type: c.type, blockSize: c.blockSize, doubleQuant: c.nested).quantize(input)
            XCTAssertEqual(q.packed.bytes, t["\(c.id).packed"]?.bytes, "\(c.id) packed bytes")
            XCTAssertEqual(q.shape, c.shape)
            XCTAssertEqual(q.originalDType, c.dtype)
            guard c.nested else {
                guard case .absmax(let absmax) = q.scales else { return XCTFail("\(c.id) expected plain scales") }
                XCTAssertEqual(absmax.bitPatterns, t["\(c.id).absmax"]?.bitPatterns, "\(c.id) absmax")
                XCTAssertEqual(q.quantState.json, c.json, "\(c.id) quant-state JSON")
                continue
            }
            guard case .nested(let nested) = q.scales else { return XCTFail("\(c.id) expected nested scales") }
            let absmax = try XCTUnwrap(t["\(c.id).absmax"])
            // Own offset rule (f64 mean): codes and nested absmax exact vs the reference's exact-nearest.
            XCTAssertEqual(nested.offset.bitPattern, t["\(c.id).own_offset"]?.bitPatterns.first, "\(c.id) offset")
            XCTAssertEqual(nested.codes.bytes, t["\(c.id).own_codes"]?.bytes, "\(c.id) own codes")
            XCTAssertEqual(nested.nestedAbsmax.bitPatterns, t["\(c.id).own_nested_absmax"]?.bitPatterns)
            // torch's f32 mean may differ from the f64-rounded mean by one ulp (its summation order).
            let bnbOffset = try XCTUnwrap(t["\(c.id).offset"]?.floats().first)
            XCTAssertLessThanOrEqual(abs(nested.offset - bnbOffset), bnbOffset.ulp, "\(c.id) offset vs torch mean")
            // Given bnb's offset, exact-nearest codes bit for bit.
            let withBnbOffset = FourBitQuantizer.doubleQuantize(absmax, offset: bnbOffset)
            XCTAssertEqual(withBnbOffset.codes.bytes, t["\(c.id).exact_codes"]?.bytes, "\(c.id) exact codes")
            XCTAssertEqual(withBnbOffset.nestedAbsmax.bitPatterns, t["\(c.id).exact_nested_absmax"]?.bitPatterns)
            // bnb's CPU 8-bit quantizer uses a 65 536-entry look-up table and may land one code off the nearest.
            // A nested block whose centred scales are all zero (a one-block matrix: absmax == mean) is degenerate:
            // bnb CPU stores nested absmax 0 and an arbitrary code, the torch reference (and we) 1e-38 and code
            // 127; every code then dequantizes to the offset.
            let bnbCodes = try XCTUnwrap(t["\(c.id).codes"]).bytes
            let bnbNested = try XCTUnwrap(t["\(c.id).nested_absmax"]).floats()
            for (i, (ours, theirs)) in zip(withBnbOffset.codes.bytes, bnbCodes).enumerated() {
                if bnbNested[i / 256] == 0 { continue }
                nestedCodes += 1
                XCTAssertLessThanOrEqual(abs(Int(ours) - Int(theirs)), 1, "\(c.id) nested code \(i) vs bnb CPU")
                if ours != theirs { nestedCodesOffByOne += 1 }
            }
            for (j, (ours, theirs)) in zip(withBnbOffset.nestedAbsmax.floats(), bnbNested).enumerated() where theirs != 0 {
                XCTAssertEqual(ours.bitPattern, theirs.bitPattern, "\(c.id) nested absmax \(j) vs bnb CPU")
            }
            if withBnbOffset.offset == nested.offset { XCTAssertEqual(q.quantState.json, c.json, "\(c.id) JSON") }
        }
        print("nested codes compared: \(nestedCodes), off by one vs bnb CPU: \(nestedCodesOffByOne)")
    }

    /// Dequantizing bnb's own quant state reproduces bnb's dequantized tensor exactly (f32 and original dtype).
    ///
    /// The expected values come from bnb's pure-torch reference kernel. bnb's public CPU `dequantize_4bit` gives
    /// the same bytes except where a row length is even but not a multiple of the block size: its C kernel then
    /// indexes scales per row (`row * (n / blocksize) + col / blocksize`) although blocks straddle rows. The test
    /// checks that this is the only kind of case where the two differ.
    func testDequantizeBnbStateMatchesBnbBitForBit() throws {
        let (cases, t) = try Self.load()
        for c in cases {
            let state = try BnbQuantState(packed: Array(c.json.utf8), source: c.id)
            XCTAssertEqual(state.json, c.json, "\(c.id) JSON round trip")
            let scales: FourBitScales
            if c.nested {
                scales = .nested(NestedScales(codes: try XCTUnwrap(t["\(c.id).codes"]),
                                              nestedAbsmax: try XCTUnwrap(t["\(c.id).nested_absmax"]),
                                              offset: try XCTUnwrap(state.nested?.offset)))
                XCTAssertEqual(state.nested?.offset.bitPattern, t["\(c.id).offset"]?.bitPatterns.first)
            } else {
                scales = .absmax(try XCTUnwrap(t["\(c.id).absmax"]))
            }
            let m = try QuantizedFourBitMatrix(shape: state.shape, type: state.quantType, blockSize: state.blockSize,
                                               packed: try XCTUnwrap(t["\(c.id).packed"]), scales: scales,
                                               originalDType: state.dtype)
            let expected = try XCTUnwrap(t["\(c.id).dequant_ref"])
            let rowLength = c.shape.count >= 2 ? c.shape.dropFirst().reduce(1, *) : c.shape.reduce(1, *)
            let straddles = rowLength % 2 == 0 && rowLength % c.blockSize != 0 && c.shape.count >= 2
            if !c.bnbCPUMatchesReference { XCTAssertTrue(straddles, "\(c.id) bnb CPU kernel differs unexpectedly") }
            let all = m.dequantizeAll()
            XCTAssertEqual(all.dtype, c.dtype)
            XCTAssertEqual(all.shape, c.shape)
            XCTAssertEqual(all.bytes, expected.bytes, "\(c.id) dequantized \(c.dtype)")
            let f32 = m.dequantizeAll(as: .f32)
            XCTAssertEqual(f32.bitPatterns, (t["\(c.id).dequant_ref_f32"] ?? expected).bitPatterns, "\(c.id) f32")
            XCTAssertEqual(m.dequantizeNaive().map(\.bitPattern), f32.bitPatterns, "\(c.id) naive oracle")
        }
    }

    /// Tiles of rows (any split, odd row lengths included) equal the whole, in f32 and in bf16.
    func testRowTilesEqualWhole() throws {
        let (cases, t) = try Self.load()
        for c in cases where c.shape.count == 2 {
            let m = try FourBitQuantizer(type: c.type, blockSize: c.blockSize, doubleQuant: c.nested)
                .quantize(try XCTUnwrap(t["\(c.id).input"]))
            let whole = m.dequantizeNaive()
            let rowLength = m.rowLength
            for tile in [1, 3, 7] {
                var rows = 0
                while rows < m.rowCount {
                    let range = rows..<min(m.rowCount, rows + tile)
                    var out = [Float](repeating: .nan, count: range.count * rowLength)
                    var outBF16 = [UInt16](repeating: 0, count: range.count * rowLength)
                    out.withUnsafeMutableBufferPointer { m.dequantizeRows(range, into: $0.baseAddress!) }
                    outBF16.withUnsafeMutableBufferPointer { m.dequantizeRows(range, intoBF16: $0.baseAddress!) }
                    let slice = Array(whole[(range.lowerBound * rowLength)..<(range.upperBound * rowLength)])
                    XCTAssertEqual(out.map(\.bitPattern), slice.map(\.bitPattern), "\(c.id) rows \(range)")
                    XCTAssertEqual(outBF16, slice.map { HalfConversion.bf16(from: $0) }, "\(c.id) bf16 rows \(range)")
                    rows = range.upperBound
                }
            }
        }
    }
}
