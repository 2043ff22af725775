// A per-process scratch file for targets whose reader takes a path (the input is written there each run).
import Foundation

func fuzzScratch(_ name: String) -> URL {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tailor-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent(name)
}
