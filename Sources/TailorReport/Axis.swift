// A chart axis: a "nice" range and ticks (steps of 1, 2 or 5 × 10ⁿ) covering the data, and tick labels.
import Foundation
import TailorText

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
    var svg = "<text x=\"\(px(width / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\">\(HTMLText.escaped(title))</text>\n"
    guard legend.count > 1 else { return svg }
    svg += "<g class=\"legend\" font-size=\"12\">"
    let itemWidths = legend.map { 34 + 7 * Double($0.name.count) }
    var x = (width - itemWidths.reduce(0, +)) / 2
    for (item, w) in zip(legend, itemWidths) {
        svg += "<line x1=\"\(px(x))\" y1=\"32\" x2=\"\(px(x + 20))\" y2=\"32\" stroke=\"\(item.colour)\" stroke-width=\"3\"\(item.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
        svg += "<text x=\"\(px(x + 25))\" y=\"36\">\(HTMLText.escaped(item.name))</text>"
        x += w
    }
    return svg + "</g>\n"
}

/// The plot frame of a chart: the rectangle inside the axes, in SVG pixels (y grows downwards: y0 is the bottom).
struct PlotFrame {
    let x0: Double, x1: Double, y0: Double, y1: Double
    let width: Double, height: Double

    /// The opening `<svg>` tag of a chart.
    static func open(kind: String, title: String, width: Double, height: Double) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart \(kind)\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"system-ui,sans-serif\" role=\"img\" aria-label=\"\(HTMLText.escaped(title))\">\n"
    }

    /// The y axis: a grid line, a tick and a label per tick, the axis line and its title turned upright.
    func yAxis(_ axis: Axis, title: String) -> String {
        var svg = "<g class=\"y-axis\" font-size=\"11\" fill=\"#57606a\">"
        for t in axis.ticks {
            let y = axis.map(t, from: y0, to: y1)
            svg += "<g class=\"tick\"><line x1=\"\(px(x0))\" y1=\"\(px(y))\" x2=\"\(px(x1))\" y2=\"\(px(y))\" stroke=\"#eaeef2\"/>"
            svg += "<line x1=\"\(px(x0 - 5))\" y1=\"\(px(y))\" x2=\"\(px(x0))\" y2=\"\(px(y))\" stroke=\"#57606a\"/>"
            svg += "<text x=\"\(px(x0 - 8))\" y=\"\(px(y + 4))\" text-anchor=\"end\">\(axis.label(t))</text></g>"
        }
        svg += "<line x1=\"\(px(x0))\" y1=\"\(px(y0))\" x2=\"\(px(x0))\" y2=\"\(px(y1))\" stroke=\"#57606a\"/>"
        return svg + "<text class=\"axis-title\" transform=\"translate(14 \(px((y0 + y1) / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1f2328\">\(HTMLText.escaped(title))</text></g>\n"
    }

    /// The x axis: one tick per (position, label, second label), the axis line and its title.
    func xAxis(_ ticks: [(x: Double, label: String, second: String?)], title: String) -> String {
        var svg = "<g class=\"x-axis\" font-size=\"11\" fill=\"#57606a\">"
        for t in ticks {
            svg += "<g class=\"tick\"><line x1=\"\(px(t.x))\" y1=\"\(px(y0))\" x2=\"\(px(t.x))\" y2=\"\(px(y0 + 5))\" stroke=\"#57606a\"/>"
            svg += "<text x=\"\(px(t.x))\" y=\"\(px(y0 + 18))\" text-anchor=\"middle\">\(HTMLText.escaped(t.label))</text>"
            if let second = t.second {
                svg += "<text x=\"\(px(t.x))\" y=\"\(px(y0 + 31))\" text-anchor=\"middle\" fill=\"#8c959f\">\(HTMLText.escaped(second))</text>"
            }
            svg += "</g>"
        }
        svg += "<line x1=\"\(px(x0))\" y1=\"\(px(y0))\" x2=\"\(px(x1))\" y2=\"\(px(y0))\" stroke=\"#57606a\"/>"
        return svg + "<text class=\"axis-title\" x=\"\(px((x0 + x1) / 2))\" y=\"\(px(height - 8))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1f2328\">\(HTMLText.escaped(title))</text></g>\n"
    }
}
