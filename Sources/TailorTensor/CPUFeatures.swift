// What the CPU offers, read once from /proc/cpuinfo (Linux).
#if canImport(Glibc)
import Glibc
#endif

/// Instruction-set features Tailor chooses kernels by.
public enum CPUFeatures {
    /// Whether the CPU has bf16 dot-product instructions (`avx512_bf16` or `amx_bf16` among the flags).
    public static let hasNativeBF16: Bool = {
        let flags = cpuFlags()
        return flags.contains("avx512_bf16") || flags.contains("amx_bf16")
    }()

    /// The words of the first "flags" line of /proc/cpuinfo; empty where there is none.
    static func cpuFlags() -> Set<Substring> {
        #if canImport(Glibc)
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil, capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            if text.hasPrefix("flags") { return Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })) }
        }
        #endif
        return []
    }
}
