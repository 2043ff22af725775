// Vertical bar charts as inline SVG: categories along x, a y axis from zero with ticks, a title with the unit,
// one colour per series (a legend when there are several), each bar's value printed above it.
import Foundation
import TailorText

/// Bars for categories; `series` gives one value per category each (nil: no bar).
public struct BarChart: Sendable {
    public var title: String
    public var xTitle: String
    /// The y axis title, unit included: "rows", "accuracy (%)".
    public var yTitle: String
    public var categories: [String]
    public var series: [(name: String, values: [Double?])]
    /// Print each bar's value above it (off for dense histograms).
    public var valueLabels: Bool
    /// How a value reads (above bars); tick labels follow the axis.
    public var format: @Sendable (Double) -> String
    public var width = 540.0
    public var height = 280.0

    public init(title: String, xTitle: String, yTitle: String, categories: [String],
                series: [(name: String, values: [Double?])], valueLabels: Bool = true,
                format: @escaping @Sendable (Double) -> String = ReportFormat.compact) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.categories = categories
        self.series = series
        self.valueLabels = valueLabels
        self.format = format
    }

    public func svg() -> String {
        guard !categories.isEmpty, !series.isEmpty else { return "" }
        let top = series.count > 1 ? 48.0 : 32.0, left = 68.0, right = 18.0, bottom = 46.0
        let values = series.flatMap { $0.values.compactMap { $0 } }
        let yAxis = Axis(covering: values + [0], count: 5, fromZero: true)
        let x0 = left, x1 = width - right, y0 = height - bottom, y1 = top
        let slot = (x1 - x0) / Double(categories.count)
        let barWidth = max(1, min(60, (slot * 0.8) / Double(series.count)))
        let frame = PlotFrame(x0: x0, x1: x1, y0: y0, y1: y1, width: width, height: height)
        var svg = PlotFrame.open(kind: "bar-chart", title: title, width: width, height: height)
        svg += chartHeader(title: title, width: width,
                           legend: series.enumerated().map { ($1.name, seriesColours[$0 % seriesColours.count], false) })
        svg += frame.yAxis(yAxis, title: yTitle)
        // Category labels: all when they fit, else evenly spaced ones.
        let longest = Double(categories.map(\.count).max() ?? 1) * 6.5
        let every = max(1, Int((longest + 8) / slot) + 1)
        svg += frame.xAxis(categories.enumerated().filter { $0.offset % every == 0 }.map {
            (x0 + slot * (Double($0.offset) + 0.5), $0.element, nil)
        }, title: xTitle)
        for (s, entry) in series.enumerated() {
            let colour = seriesColours[s % seriesColours.count]
            svg += "<g class=\"series\" data-series=\"\(HTMLText.escaped(entry.name))\">"
            for (i, value) in entry.values.enumerated() where i < categories.count {
                guard let value, value.isFinite else { continue }
                let x = x0 + slot * Double(i) + (slot - barWidth * Double(series.count)) / 2 + barWidth * Double(s)
                let y = yAxis.map(max(0, value), from: y0, to: y1)
                svg += "<rect x=\"\(px(x))\" y=\"\(px(y))\" width=\"\(px(max(1, barWidth - 1)))\" height=\"\(px(max(0, y0 - y)))\" fill=\"\(colour)\"><title>\(HTMLText.escaped(categories[i])) · \(HTMLText.escaped(entry.name)): \(HTMLText.escaped(format(value)))</title></rect>"
                if valueLabels {
                    svg += "<text x=\"\(px(x + barWidth / 2))\" y=\"\(px(y - 4))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1f2328\">\(HTMLText.escaped(format(value)))</text>"
                }
            }
            svg += "</g>\n"
        }
        return svg + "</svg>"
    }
}
