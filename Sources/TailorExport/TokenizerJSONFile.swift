// Reading tokenizer.json-family files with Foundation's JSONSerialization, which drops a U+FEFF that starts a string
// (swift-corelibs-foundation decodes each string like a file and strips its "BOM"): tokenizers hold such pieces.
import Foundation

enum TokenizerJSONFile {
    /// The JSON object in `url`, or nil when the file is missing or not an object. Every U+FEFF after the start of
    /// the file is rewritten as the escape \ufeff first (it can only occur inside strings there).
    static func object(_ url: URL) -> [String: Any]? {
        guard var bytes = try? [UInt8](Data(contentsOf: url)) else { return nil }
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        if bytes.starts(with: bom) { bytes.removeFirst(3) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xBB, bytes[i + 2] == 0xBF {
                out += Array(#"\ufeff"#.utf8)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return (try? JSONSerialization.jsonObject(with: Data(out))) as? [String: Any]
    }
}
