// The Hub name an adapter records for its base: cache folders, config.json's _name_or_path, never a local path.
import Foundation
import XCTest
@testable import TailorFormats

final class HubNameTests: XCTestCase {
    func testCachePath() {
        XCTAssertEqual(HubName.fromCachePath(URL(fileURLWithPath: "/root/.cache/huggingface/hub/models--Qwen--Qwen3-0.6B/snapshots/c1899de/model.safetensors")), "Qwen/Qwen3-0.6B")
        XCTAssertEqual(HubName.fromCachePath(URL(fileURLWithPath: "/c/hub/models--gpt2/snapshots/abc")), "gpt2")
        XCTAssertNil(HubName.fromCachePath(URL(fileURLWithPath: "/c/hub/models--a--b/blobs/abc")))
        XCTAssertNil(HubName.fromCachePath(URL(fileURLWithPath: "/c/models/snapshots/abc")))
        XCTAssertNil(HubName.fromCachePath(URL(fileURLWithPath: "/c/models--../snapshots/abc")))
    }

    func testRepositoryIDs() {
        for good in ["HuggingFaceTB/SmolLM2-135M-Instruct", "gpt2", "meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-0.5B_x.y"] {
            XCTAssertTrue(HubName.isRepositoryID(good), good)
        }
        for bad in ["/home/me/model", "./model", "a/b/c", "a//b", "../x", "a/..", "", "Smollm2 135M", "a/b\n", "-a/b"] {
            XCTAssertFalse(HubName.isRepositoryID(bad), bad)
        }
        XCTAssertEqual(HubName.fromURL("https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/tree/main"), "HuggingFaceTB/SmolLM2-135M-Instruct")
        XCTAssertNil(HubName.fromURL("https://example.com/a/b"))
    }
}
