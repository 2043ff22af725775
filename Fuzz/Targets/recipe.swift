// libFuzzer target: any bytes as a YAML recipe; the bounds check runs first, and only text within the bounds
// reaches Yams (as `tailor train --config` does).
import Foundation
import Yams

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard (try? RecipeBounds.check(text, file: "fuzz.yaml")) != nil else { return 0 }
    _ = try? Yams.load(yaml: text)
    _ = try? Yams.compose(yaml: text)
    return 0
}
