// safetensors: values read back, byte-identical rewrites of Python-written files, atomic writes.
import Foundation
import TailorFormats
import TailorTensor
import XCTest

final class SafeTensorsReadWriteTests: XCTestCase {
    func testReadsValuesWrittenByPython() throws {
        let file = try SafeTensorsFile(url: try Fixtures.url("safetensors/mixed.safetensors"))
        XCTAssertEqual(file.metadata, ["format": "pt"])
        let expected = try XCTUnwrap(try Fixtures.json("safetensors/mixed_values.json") as? [String: [String: Any]])
        XCTAssertEqual(Set(file.names), Set(expected.keys))
        for (name, entry) in expected {
            let tensor = try file.tensor(name)
            XCTAssertEqual(tensor.shape, entry["shape"] as? [Int], name)
            let dtypes: [String: DType] = ["float32": .f32, "bfloat16": .bf16, "float16": .f16, "int64": .i64, "uint8": .u8]
            XCTAssertEqual(tensor.dtype, dtypes[entry["dtype"] as? String ?? ""], name)
            if tensor.dtype == .i64 {
                // Exact integers (2^40 does not survive a trip through Float).
                let ints = tensor.withUnsafeRawBytes { Array($0.bindMemory(to: Int64.self)).map(Int.init) }
                XCTAssertEqual(ints, entry["values"] as? [Int], name)
            } else {
                let values = (entry["values"] as? [NSNumber] ?? []).map(\.floatValue)
                // Exact: JSON holds each stored value widened to f64 by torch, and f16/bf16 → f32 is exact.
                XCTAssertEqual(tensor.floats(), values, name)
            }
        }
        XCTAssertEqual(file.info("scalar")?.shape, [])
        XCTAssertEqual(try file.tensor("scalar").floats(), [3.5])
        XCTAssertEqual(try file.tensor("empty").shape, [0, 3])
    }

    func testTensorsAreZeroCopyViews() throws {
        let file = try SafeTensorsFile(url: try Fixtures.url("safetensors/mixed.safetensors"))
        let before = MemoryTracker.shared.liveBytes
        let tensor = try file.tensor("model.weight")
        XCTAssertTrue(tensor.storage.isBorrowed)
        XCTAssertEqual(MemoryTracker.shared.liveBytes, before)
    }

    /// Rewrites every tensor of a Python-written file, in shuffled order, and compares the bytes exactly.
    private func assertRewriteIsIdentical(_ fixture: String, metadata: [String: String]?) throws {
        let original = try Fixtures.data(fixture)
        let file = try SafeTensorsFile(url: try Fixtures.url(fixture))
        var tensors = try file.names.map { (name: $0, tensor: try file.tensor($0)) }
        tensors.reverse()
        let rewritten = try SafeTensorsWriter.data(tensors, metadata: metadata)
        XCTAssertEqual(rewritten.count, original.count, fixture)
        XCTAssertTrue(rewritten == original, "\(fixture): bytes differ from the Python writer's")
    }

    func testWriterMatchesPythonBytesWithMetadataAndEscapes() throws {
        try assertRewriteIsIdentical("safetensors/mixed.safetensors", metadata: ["format": "pt"])
    }

    func testWriterMatchesPythonBytesWithoutMetadata() throws {
        try assertRewriteIsIdentical("safetensors/no_metadata.safetensors", metadata: nil)
    }

    func testAtomicWriteRoundTrip() throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("out.safetensors")
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [4], values: [0.5, -1, 2, 8]).converted(to: .bf16)
        try SafeTensorsWriter.write([(name: "a", tensor: a), (name: "b", tensor: b)], metadata: ["format": "pt"], to: url)
        let contents = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
        XCTAssertEqual(contents, ["out.safetensors"], "no temporary file may remain")
        let back = try SafeTensorsFile(url: url)
        XCTAssertEqual(back.names, ["a", "b"])
        XCTAssertEqual(try back.tensor("a").floats(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try back.tensor("b").dtype, .bf16)
        XCTAssertEqual(try back.tensor("b").floats(), [0.5, -1, 2, 8])
        XCTAssertEqual(back.dataStart % 8, 0, "header padded to a multiple of 8")
    }

    func testMisalignedTensorIsCopiedNotMisread() throws {
        // Other writers may place an F32 tensor at an odd offset; typed access then needs an aligned copy.
        let header = #"{"b":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"f":{"dtype":"F32","shape":[1],"data_offsets":[3,7]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        let data = Data([1, 2, 3]) + Data.le(Float(2.5).bitPattern)
        let folder = try TemporaryFolder()
        let file = try SafeTensorsFile(url: try folder.file("odd.safetensors", safetensorsBytes(header: padded, data: data)))
        let f = try file.tensor("f")
        XCTAssertFalse(f.storage.isBorrowed)
        XCTAssertEqual(f.floats(), [2.5])
        XCTAssertEqual(try file.tensor("b").floats(), [1, 2, 3])
    }

    func testWriterRejectsDuplicateNames() {
        let t = Tensor(zeros: [1])
        assertFormatError(try SafeTensorsWriter.data([(name: "x", tensor: t), (name: "x", tensor: t)]), contains: ["'x'", "twice"])
    }
}
