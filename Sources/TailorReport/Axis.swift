// A chart axis: a "nice" range and ticks (steps of 1, 2 or 5 × 10ⁿ) covering the data, and tick labels.
import Foundation

/// The scale of one axis: its range, its ticks and how a value maps to a pixel.
struct Axis {
    var low: Double
    var high: Double
    var ticks: [Double]
    let step: Double

    /// Covers `values` with about `count` ticks; `fromZero` starts the range at 0 (bars, counts); `integral` keeps
    /// ticks on whole numbers (steps).
    init(covering values: [Double], count: Int = 5, fromZero: Bool = false, integral: Bool = false) {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if fromZero { lo = min(lo, 0); hi = max(hi, 0) }
        if hi - lo <= abs(hi) * 1e-12 {   // a flat series: a band around the value
            let pad = hi == 0 ? 1 : abs(hi) * 0.1
            lo = fromZero && lo >= 0 ? 0 : lo - pad
            hi += pad
        }
        let raw = (hi - lo) / Double(max(1, count))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integral { step = step < 1 ? 1 : (step == 2.5 ? 5 : step.rounded(.up)) }
        low = (lo / step).rounded(.down) * step
        high = (hi / step).rounded(.up) * step
        if fromZero, lo >= 0 { low = 0 }
        self.step = step
        var ticks: [Double] = []
        var t = low
        while t <= high + step * 1e-6, ticks.count < 50 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        self.ticks = ticks
    }

    /// Position of `value` between `from` (at `low`) and `to` (at `high`).
    func map(_ value: Double, from: Double, to: Double) -> Double {
        from + (to - from) * (value - low) / max(high - low, .leastNormalMagnitude)
    }

    /// A tick label with as many decimals as the step needs.
    func label(_ value: Double) -> String {
        let biggest = max(abs(low), abs(high))
        if biggest < 1e-2 || biggest >= 1e9 { return value == 0 ? "0" : ReportFormat.scientific(value) }
        let decimals = max(0, -Int(log10(step).rounded(.down)) + (step / pow(10, log10(step).rounded(.down)) == 2.5 ? 1 : 0))
        return ReportFormat.decimal(value, decimals)
    }
}

/// Numbers in SVG attributes: one decimal, no separators.
func px(_ x: Double) -> String { String(format: "%.1f", x) }

/// Colours of successive series, readable on white and distinct for common colour blindness (Okabe–Ito).
let seriesColours = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"]

/// A title centred above the plot and a legend row under it.
func chartHeader(title: String, width: Double, legend: [(name: String, colour: String, dashed: Bool)]) -> String {
    var svg = "<text x=\"\(px(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\">\(ReportFormat.escape(title))</text>\n"
    guard legend.count > 1 else { return svg }
    svg += "<g class=\"legend\" font-size=\"12\">"
    let itemWidths = legend.map { 34 + 7 * Double($0.name.count) }
    var x = (width - itemWidths.reduce(0, +)) / 2
    for (item, w) in zip(legend, itemWidths) {
        svg += "<line x1=\"\(px(x))\" y1=\"32\" x2=\"\(px(x + 20))\" y2=\"32\" stroke=\"\(item.colour)\" stroke-width=\"3\"\(item.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
        svg += "<text x=\"\(px(x + 25))\" y=\"36\">\(ReportFormat.escape(item.name))</text>"
        x += w
    }
    return svg + "</g>\n"
}
