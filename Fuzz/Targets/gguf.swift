// libFuzzer target: any bytes as a .gguf file; the reader, its metadata and every tensor read return or throw.
import Foundation
import TailorFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = fuzzScratch("input.gguf")
    guard (try? Data(bytes: data, count: size).write(to: url)) != nil else { return 0 }
    guard let file = try? GGUFFile(url: url) else { return 0 }
    _ = try? ModelConfig(gguf: file)
    for info in file.tensorInfos.prefix(64) { _ = try? file.tensor(info.name) }
    return 0
}
