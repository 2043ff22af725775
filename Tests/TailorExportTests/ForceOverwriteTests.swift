// Existing outputs: refused without --force (named error with the hint), replaced atomically with it, and kept as
// they were when the new export fails.
import Foundation
import TailorExport
import XCTest

final class ForceOverwriteTests: XCTestCase {
    func testExistingGGUFIsKeptWithoutForceAndReplacedWithIt() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let out = temp.appendingPathComponent("m.gguf")
        try Data("previous".utf8).write(to: out)
        let request = GGUFExportRequest(base: try ExportFixtures.base("tiny-llama"), adapter: try ExportFixtures.adapter("tiny-llama"),
                                        output: out, precision: .f32)
        XCTAssertThrowsError(try ExportPipeline.exportGGUF(request)) { error in
            XCTAssertEqual(error as? ExportError, .outputExists(path: out.path, isFolder: false))
            XCTAssertTrue("\(error)".contains("--force"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: out), Data("previous".utf8), "untouched without --force")
        var forced = request
        forced.overwrite = true
        let result = try ExportPipeline.exportGGUF(forced)
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.check).maxLogitDifference, 1e-4)
        XCTAssertEqual(try Data(contentsOf: out).prefix(4), Data("GGUF".utf8), "replaced by the new export")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temp.path), ["m.gguf"], "no temporary sibling left")
        // A GGUF LoRA (--lora-only) goes through the same path.
        forced.loraOnly = true
        _ = try ExportPipeline.exportGGUF(forced)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temp.path), ["m.gguf"])
    }

    func testExistingMergeFolderIsKeptWithoutForceAndReplacedWithIt() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let out = temp.appendingPathComponent("merged")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: out.appendingPathComponent("stale.txt"))
        var request = MergeRequest(base: try ExportFixtures.base("tiny-llama"), adapters: [try ExportFixtures.adapter("tiny-llama")],
                                   output: out, dtype: .f32)
        XCTAssertThrowsError(try ExportPipeline.merge(request)) { error in
            XCTAssertEqual(error as? ExportError, .outputExists(path: out.path, isFolder: true))
            XCTAssertTrue("\(error)".contains("--force"), "\(error)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("stale.txt").path))
        request.overwrite = true
        _ = try ExportPipeline.merge(request)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        XCTAssertFalse(names.contains("stale.txt"), "the folder is replaced, not merged into: \(names)")
        XCTAssertTrue(names.contains("model.safetensors") && names.contains("config.json"), "\(names)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temp.path), ["merged"], "no temporary sibling left")
        // --force never replaces a file by a folder (or the reverse).
        let file = temp.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        request.output = file
        XCTAssertThrowsError(try ExportPipeline.merge(request)) { error in
            guard case ExportError.unwritableOutput = error else { return XCTFail("\(error)") }
        }
    }

    /// With --force a failed export loses nothing: the old output stays until the new one is complete and checked.
    func testFailedForcedWriteKeepsTheOldOutput() throws {
        let temp = try ExportFixtures.temporaryFolder(self)
        let file = temp.appendingPathComponent("m.gguf")
        try Data("previous".utf8).write(to: file)
        struct Boom: Error {}
        XCTAssertThrowsError(try AtomicOutput.writeFile(file, overwrite: true) { url in
            try Data("partial".utf8).write(to: url)
            throw Boom()
        })
        XCTAssertEqual(try Data(contentsOf: file), Data("previous".utf8))
        let folder = temp.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: folder.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try AtomicOutput.writeFolder(folder, overwrite: true) { url in
            try Data("new".utf8).write(to: url.appendingPathComponent("config.json"))
            throw ExportError.verificationFailed("test")
        }) { XCTAssertEqual($0 as? ExportError, .verificationFailed("test")) }
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("config.json")), Data("old".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temp.path).sorted(), ["m.gguf", "out"], "no temporary left")
        // And a successful forced write replaces both.
        try AtomicOutput.writeFolder(folder, overwrite: true) { try Data("new".utf8).write(to: $0.appendingPathComponent("config.json")) }
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("config.json")), Data("new".utf8))
        try AtomicOutput.writeFile(file, overwrite: true) { try Data("new".utf8).write(to: $0) }
        XCTAssertEqual(try Data(contentsOf: file), Data("new".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temp.path).sorted(), ["m.gguf", "out"])
    }
}
