// Sharded safetensors: reading transformers' shards + index, and writing the same bytes.
import Foundation
import TailorFormats
import TailorTensor
import XCTest

final class SafeTensorsShardTests: XCTestCase {
    func testReadsTransformersShards() throws {
        let sharded = try ShardedSafeTensors(indexURL: try Fixtures.url("safetensors/tiny_llama_sharded/model.safetensors.index.json"))
        XCTAssertEqual(sharded.shards.count, 5)
        XCTAssertEqual(sharded.indexMetadata["total_size"], 80512)
        let single = try SafeTensorsFile(url: try Fixtures.url("safetensors/tiny_llama_single/model.safetensors"))
        XCTAssertEqual(Set(sharded.names), Set(single.names))
        for name in single.names {
            XCTAssertEqual(try sharded.tensor(name).floats(), try single.tensor(name).floats(), name)
        }
    }

    /// Same tensors, same order, same limit as transformers' save_pretrained → same shard files and index bytes.
    func testWriteShardedMatchesTransformers() throws {
        let orderJSON = try XCTUnwrap(try Fixtures.json("safetensors/tiny_llama_sharded_order.json") as? [String: Any])
        let order = try XCTUnwrap(orderJSON["order"] as? [String])
        let limit = try XCTUnwrap(orderJSON["max_shard_bytes"] as? Int)
        let source = try SafeTensorsFile(url: try Fixtures.url("safetensors/tiny_llama_single/model.safetensors"))
        let tensors = try order.map { ($0, try source.tensor($0)) }
        let folder = try TemporaryFolder()
        let written = try SafeTensorsWriter.writeSharded(tensors, to: folder.url, maxShardBytes: limit, metadata: ["format": "pt"])
        XCTAssertEqual(written.count, 6)
        for name in written {
            let ours = try Data(contentsOf: folder.url.appendingPathComponent(name))
            let theirs = try Fixtures.data("safetensors/tiny_llama_sharded/\(name)")
            XCTAssertTrue(ours == theirs, "\(name) differs from transformers' file")
        }
        XCTAssertEqual(try SafeTensorsWriter.parseSize("20KB"), limit)
    }

    func testSingleShardWritesPlainFile() throws {
        let folder = try TemporaryFolder()
        let names = try SafeTensorsWriter.writeSharded([("w", Tensor(zeros: [4]))], to: folder.url, maxShardBytes: 1_000)
        XCTAssertEqual(names, ["model.safetensors"])
        let single = try SafeTensorsFile(url: try Fixtures.url("safetensors/tiny_llama_single/model.safetensors"))
        XCTAssertEqual(single.metadata, ["format": "pt"])
    }

    func testOversizedTensorGetsItsOwnShardBeforeTheOpenOne() throws {
        // huggingface_hub appends a too-large tensor as its own shard while the current shard is still open.
        let folder = try TemporaryFolder()
        let small = Tensor(zeros: [2])  // 8 bytes
        let big = Tensor(zeros: [10])   // 40 bytes > 20
        try SafeTensorsWriter.writeSharded([("a", small), ("big", big), ("b", small), ("c", small)], to: folder.url,
                                           maxShardBytes: 20, metadata: nil)
        let sharded = try ShardedSafeTensors(indexURL: folder.url.appendingPathComponent("model.safetensors.index.json"))
        XCTAssertEqual(sharded.shard(of: "big")?.url.lastPathComponent, "model-00001-of-00003.safetensors")
        XCTAssertEqual(sharded.shard(of: "a")?.url.lastPathComponent, "model-00002-of-00003.safetensors")
        XCTAssertEqual(sharded.shard(of: "b")?.url.lastPathComponent, "model-00002-of-00003.safetensors")
        XCTAssertEqual(sharded.shard(of: "c")?.url.lastPathComponent, "model-00003-of-00003.safetensors")
        XCTAssertEqual(sharded.indexMetadata["total_size"], 64)
        XCTAssertEqual(sharded.indexMetadata["total_parameters"], 16)
    }

    func testParseSize() throws {
        XCTAssertEqual(try SafeTensorsWriter.parseSize("5GB"), 5_000_000_000)
        XCTAssertEqual(try SafeTensorsWriter.parseSize("500MB"), 500_000_000)
        XCTAssertEqual(try SafeTensorsWriter.parseSize("2GiB"), 2 << 30)
        XCTAssertEqual(try SafeTensorsWriter.parseSize("1234"), 1234)
        assertFormatError(try SafeTensorsWriter.parseSize("lots"), contains: ["lots"])
    }

    func testIndexNamingMissingShardTensor() throws {
        let folder = try TemporaryFolder()
        try SafeTensorsWriter.write([(name: "a", tensor: Tensor(zeros: [1]))], metadata: nil,
                                    to: folder.url.appendingPathComponent("model-00001-of-00001.safetensors"))
        let index = #"{"metadata": {}, "weight_map": {"a": "model-00001-of-00001.safetensors", "b": "model-00001-of-00001.safetensors"}}"#
        let url = try folder.file("model.safetensors.index.json", Data(index.utf8))
        assertFormatError(try ShardedSafeTensors(indexURL: url), contains: ["model-00001-of-00001.safetensors", "'b'"])
    }
}
