// Line charts as inline SVG: x and y axes with ticks, tick labels and titles (with units), grid lines, a legend,
// one polyline per series.
import Foundation
import TailorText

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
        let frame = PlotFrame(x0: x0, x1: x1, y0: y0, y1: y1, width: width, height: height)
        var svg = PlotFrame.open(kind: "line-chart", title: title, width: width, height: height)
        svg += chartHeader(title: title, width: width,
                           legend: shown.enumerated().map { ($1.name, seriesColours[$0 % seriesColours.count], $1.dashed) })
        svg += frame.yAxis(yAxis, title: yTitle)
        svg += frame.xAxis(xAxis.ticks.map { (xAxis.map($0, from: x0, to: x1), xAxis.label($0), secondaryXLabel?($0)) }, title: xTitle)
        // Series.
        for (i, s) in shown.enumerated() {
            let colour = seriesColours[i % seriesColours.count]
            let xy = s.points.map { (x: xAxis.map($0.x, from: x0, to: x1), y: yAxis.map($0.y, from: y0, to: y1)) }
            svg += "<g class=\"series\" data-series=\"\(HTMLText.escaped(s.name))\"><title>\(HTMLText.escaped(s.name))</title>"
            if xy.count > 1 {
                let points = xy.map { "\(px($0.x)),\(px($0.y))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-linejoin=\"round\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(points)\"/>"
            }
            if s.dashed || xy.count == 1 {   // sparse series: mark each point
                for p in xy { svg += "<circle cx=\"\(px(p.x))\" cy=\"\(px(p.y))\" r=\"3.5\" fill=\"\(colour)\"/>" }
            }
            svg += "</g>\n"
        }
        return svg + "</svg>"
    }
}
