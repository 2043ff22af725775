// libFuzzer target: any bytes as a YAML recipe, read by `RecipeFile.load` exactly as `tailor train --config` reads it
// (bounds first, then Yams' node tree, values one scalar at a time), and by Yams' composer.
import Foundation
import Yams

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard (try? RecipeBounds.check(text, file: "fuzz.yaml")) != nil else { return 0 }
    _ = try? RecipeFile.load(text, file: "fuzz.yaml")
    _ = try? Yams.compose(yaml: text)
    return 0
}
