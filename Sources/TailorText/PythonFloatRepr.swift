// Python's `repr(float)`, which `json.dumps` also writes for finite floats: bnb's quant-state JSON, config.json,
// chat templates' `tojson` and string conversion.

/// Formats `value` exactly as Python 3 `repr(value)` / `json.dumps(value)` does.
///
/// Both use the shortest digit string that round-trips; Python writes it in fixed notation when the decimal
/// exponent `decpt` (value = 0.d1d2… × 10^decpt) satisfies -4 < decpt ≤ 16, otherwise as `d.ddde±XX` (at least two
/// exponent digits). Fixed notation always has a fractional part (`1.0`); exponent notation drops a lone `.0`.
/// Non-finite values are `nan`, `inf` and `-inf` as `repr` writes them (`json.dumps` writes `NaN`, `Infinity`,
/// `-Infinity`: see ``JSONText/pythonNumber(_:)``).
public func pythonFloatRepr(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    let sign = value.sign == .minus ? "-" : ""
    if value == 0 { return sign + "0.0" }
    let (digits, decpt) = shortestDigits(abs(value))
    if decpt > -4 && decpt <= 16 {
        if decpt <= 0 { return sign + "0." + String(repeating: "0", count: -decpt) + digits }
        if decpt >= digits.count { return sign + digits + String(repeating: "0", count: decpt - digits.count) + ".0" }
        let cut = digits.index(digits.startIndex, offsetBy: decpt)
        return sign + digits[..<cut] + "." + digits[cut...]
    }
    let exponent = decpt - 1
    let mantissa = digits.count == 1 ? digits : String(digits.prefix(1)) + "." + digits.dropFirst()
    let magnitude = abs(exponent) < 10 ? "0\(abs(exponent))" : "\(abs(exponent))"
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + magnitude
}

/// Shortest round-trip digits (no leading/trailing zeros) and decimal-point position of a positive finite value,
/// taken from Swift's `description`, which prints the same shortest digits as Python (different layout).
private func shortestDigits(_ value: Double) -> (digits: String, decpt: Int) {
    let text = value.description
    var mantissa = Substring(text), exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = text[..<e]
        exponent = Int(text[text.index(after: e)...]) ?? 0
    }
    let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
    let integerPart = parts.first.map(String.init) ?? ""
    let fraction = parts.count > 1 ? String(parts[1]) : ""
    var all = integerPart + fraction
    var decpt = integerPart.count + exponent
    while all.hasPrefix("0") && all.count > 1 {
        all.removeFirst()
        decpt -= 1
    }
    while all.hasSuffix("0") && all.count > 1 { all.removeLast() }
    return (all, decpt)
}
