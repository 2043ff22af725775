// Numbers and text as every Tailor report writes them: thousands separators, fixed decimals, bytes, HTML escaping.
import Foundation

/// Formatting shared by the HTML reports and the terminal summaries.
public enum ReportFormat {
    /// `134515008` → `"134,515,008"`.
    public static func integer(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return value < 0 ? "-" + out : out
    }

    /// `x` with `digits` decimals and thousands separators in the integer part: `12345.678, 2` → `"12,345.68"`.
    public static func decimal(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "–" : (x > 0 ? "∞" : "-∞") }
        let text = String(format: "%.\(max(0, min(digits, 12)))f", x)
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parts = body.split(separator: ".", maxSplits: 1)
        guard let whole = parts.first, let wholeValue = Int(whole) else { return text }
        let grouped = integer(wholeValue) + (parts.count > 1 ? "." + parts[1] : "")
        return negative && grouped.contains(where: { $0 != "0" && $0 != "." && $0 != "," }) ? "-" + grouped : grouped
    }

    /// A value of any size in about four significant digits: 0.000212 → `"2.12e-4"`, 1.2345 → `"1.234"`.
    public static func compact(_ x: Double) -> String {
        guard x.isFinite else { return decimal(x, 0) }
        let m = abs(x)
        if m == 0 { return "0" }
        if m < 1e-2 || m >= 1e9 { return scientific(x) }
        if m >= 1000 { return decimal(x, 0) }
        return decimal(x, max(0, 3 - Int(log10(m).rounded(.down))))
    }

    /// `0.0002` → `"2e-4"`, `0.000125` → `"1.25e-4"`.
    public static func scientific(_ x: Double) -> String {
        var text = String(format: "%.2e", x)   // 1.25e-04
        guard let e = text.firstIndex(of: "e") else { return text }
        var mantissa = String(text[..<e])
        while mantissa.contains("."), mantissa.hasSuffix("0") { mantissa.removeLast() }
        if mantissa.hasSuffix(".") { mantissa.removeLast() }
        let exponent = Int(text[text.index(after: e)...]) ?? 0
        text = mantissa + "e" + String(exponent)
        return text
    }

    /// Bytes in decimal units, as the terminal and the reports print sizes: `1536` → `"1.5 KB"`, `2_448_000_000` →
    /// `"2.4 GB"`.
    public static func bytes(_ count: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count), unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(count) B" : decimal(value, 1) + " " + units[unit]
    }

    /// Seconds as `"42.0 s"`, `"3:07"` or `"1:02:03"`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "–" }
        if seconds < 60 { return decimal(seconds, 1) + " s" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
