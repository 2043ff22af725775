// libFuzzer target: any bytes as a dataset file (JSONL, JSON array or CSV); the reader returns records or throws.
import Foundation
import TailorChat
import TailorData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    _ = try? DataReader.read(data: bytes, path: "fuzz.jsonl")
    _ = try? DataReader.read(data: bytes, path: "fuzz.jsonl", skipMalformed: true)
    _ = try? JinjaValue(json: bytes)
    return 0
}
