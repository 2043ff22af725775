// Line charts as inline SVG: x and y axes with ticks, tick labels and titles (with units), grid lines, a legend,
// one polyline per series.
import Foundation

/// One named line of a chart.
public struct ChartSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// Dashed line with point markers (sparse series such as evaluation loss).
    public var dashed: Bool

    public init(_ name: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
        self.name = name
        self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
        self.dashed = dashed
    }
}

/// A line chart of one or more series over a shared x axis.
public struct LineChart: Sendable {
    public var title: String
    /// Axis titles, units included: "step", "loss (nats/token)".
    public var xTitle: String
    public var yTitle: String
    public var series: [ChartSeries]
    /// A second label under each x tick (the epoch under a step), or nil.
    public var secondaryXLabel: (@Sendable (Double) -> String?)?
    /// Ticks on whole numbers only (steps).
    public var integralX = true
    public var width = 540.0
    public var height = 300.0

    public init(title: String, xTitle: String, yTitle: String, series: [ChartSeries],
                secondaryXLabel: (@Sendable (Double) -> String?)? = nil) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.series = series
        self.secondaryXLabel = secondaryXLabel
    }

    /// The chart, or an empty string when no series has a point.
    public func svg() -> String {
        let shown = series.filter { !$0.points.isEmpty }
        guard !shown.isEmpty else { return "" }
        let top = shown.count > 1 ? 48.0 : 32.0, left = 68.0, right = 30.0
        let bottom = secondaryXLabel == nil ? 46.0 : 60.0
        let xs = shown.flatMap { $0.points.map(\.x) }, ys = shown.flatMap { $0.points.map(\.y) }
        let xAxis = Axis(covering: xs, count: 6, integral: integralX), yAxis = Axis(covering: ys, count: 5)
        let x0 = left, x1 = width - right, y0 = height - bottom, y1 = top
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart line-chart\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"system-ui,sans-serif\" role=\"img\" aria-label=\"\(ReportFormat.escape(title))\">\n"
        svg += chartHeader(title: title, width: width,
                           legend: shown.enumerated().map { ($1.name, seriesColours[$0 % seriesColours.count], $1.dashed) })
        // y axis: grid line and label per tick, then the axis title turned upright.
        svg += "<g class=\"y-axis\" font-size=\"11\" fill=\"#57606a\">"
        for t in yAxis.ticks {
            let y = yAxis.map(t, from: y0, to: y1)
            svg += "<g class=\"tick\"><line x1=\"\(px(x0))\" y1=\"\(px(y))\" x2=\"\(px(x1))\" y2=\"\(px(y))\" stroke=\"#eaeef2\"/>"
            svg += "<line x1=\"\(px(x0 - 5))\" y1=\"\(px(y))\" x2=\"\(px(x0))\" y2=\"\(px(y))\" stroke=\"#57606a\"/>"
            svg += "<text x=\"\(px(x0 - 8))\" y=\"\(px(y + 4))\" text-anchor=\"end\">\(yAxis.label(t))</text></g>"
        }
        svg += "<line x1=\"\(px(x0))\" y1=\"\(px(y0))\" x2=\"\(px(x0))\" y2=\"\(px(y1))\" stroke=\"#57606a\"/>"
        svg += "<text class=\"axis-title\" transform=\"translate(14 \(px((y0 + y1) / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1f2328\">\(ReportFormat.escape(yTitle))</text></g>\n"
        // x axis.
        svg += "<g class=\"x-axis\" font-size=\"11\" fill=\"#57606a\">"
        for t in xAxis.ticks {
            let x = xAxis.map(t, from: x0, to: x1)
            svg += "<g class=\"tick\"><line x1=\"\(px(x))\" y1=\"\(px(y0))\" x2=\"\(px(x))\" y2=\"\(px(y0 + 5))\" stroke=\"#57606a\"/>"
            svg += "<text x=\"\(px(x))\" y=\"\(px(y0 + 18))\" text-anchor=\"middle\">\(xAxis.label(t))</text>"
            if let second = secondaryXLabel?(t) {
                svg += "<text x=\"\(px(x))\" y=\"\(px(y0 + 31))\" text-anchor=\"middle\" fill=\"#8c959f\">\(ReportFormat.escape(second))</text>"
            }
            svg += "</g>"
        }
        svg += "<line x1=\"\(px(x0))\" y1=\"\(px(y0))\" x2=\"\(px(x1))\" y2=\"\(px(y0))\" stroke=\"#57606a\"/>"
        svg += "<text class=\"axis-title\" x=\"\(px((x0 + x1) / 2))\" y=\"\(px(height - 8))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#1f2328\">\(ReportFormat.escape(xTitle))</text></g>\n"
        // Series.
        for (i, s) in shown.enumerated() {
            let colour = seriesColours[i % seriesColours.count]
            let points = s.points.map { "\(px(xAxis.map($0.x, from: x0, to: x1))),\(px(yAxis.map($0.y, from: y0, to: y1)))" }
            svg += "<g class=\"series\" data-series=\"\(ReportFormat.escape(s.name))\"><title>\(ReportFormat.escape(s.name))</title>"
            if points.count > 1 {
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-linejoin=\"round\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(points.joined(separator: " "))\"/>"
            }
            if s.dashed || points.count == 1 {
                for p in points {
                    let xy = p.split(separator: ",")
                    svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3.5\" fill=\"\(colour)\"/>"
                }
            }
            svg += "</g>\n"
        }
        return svg + "</svg>"
    }
}
