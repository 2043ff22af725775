// libFuzzer target: any bytes as a .safetensors file; the reader and every tensor read return or throw.
import Foundation
import TailorFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = fuzzScratch("input.safetensors")
    guard (try? Data(bytes: data, count: size).write(to: url)) != nil else { return 0 }
    guard let file = try? SafeTensorsFile(url: url) else { return 0 }
    for name in file.names { _ = try? file.tensor(name) }
    return 0
}
