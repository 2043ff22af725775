// libFuzzer target: any bytes as tokenizer.json; loading, encoding and decoding return or throw.
import Foundation
import TailorTokenizers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let tokenizer = try? Tokenizer(tokenizerJSON: Data(bytes: data, count: size)) else { return 0 }
    let ids = tokenizer.encode("Hello wörld <|im_start|>user\n  tabs\tand 123 🎉", addSpecialTokens: true)
    _ = tokenizer.decode(ids, skipSpecialTokens: false)
    return 0
}
