// The shared report style: number formatting, nice axis ticks, and charts that carry axes, ticks and one series
// per metric.
import XCTest
import TailorText
@testable import TailorReport

final class ReportStyleTests: XCTestCase {
    func testThousandsSeparatorsAndDecimals() {
        XCTAssertEqual(ReportFormat.integer(134_515_008), "134,515,008")
        XCTAssertEqual(ReportFormat.integer(-1234), "-1,234")
        XCTAssertEqual(ReportFormat.integer(999), "999")
        XCTAssertEqual(ReportFormat.decimal(12345.678, 2), "12,345.68")
        XCTAssertEqual(ReportFormat.decimal(-0.0001, 2), "0.00")
        XCTAssertEqual(ReportFormat.decimal(.nan, 2), "–")
        XCTAssertEqual(ReportFormat.scientific(0.0002), "2e-4")
        XCTAssertEqual(ReportFormat.scientific(0.000125), "1.25e-4")
        XCTAssertEqual(ReportFormat.compact(1.23456), "1.235")
        XCTAssertEqual(ReportFormat.bytes(1536), "1.5 KB")
        XCTAssertEqual(ReportFormat.bytes(2_448_000_000), "2.4 GB")
        XCTAssertEqual(ReportFormat.duration(187), "3:07")
        XCTAssertEqual(HTMLText.escaped("<a href=\"x\">&'"), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;")
    }

    func testAxisTicksAreNiceAndCoverTheData() {
        let axis = Axis(covering: [0.93, 2.71], count: 5)
        XCTAssertLessThanOrEqual(axis.low, 0.93)
        XCTAssertGreaterThanOrEqual(axis.high, 2.71)
        XCTAssertEqual(axis.ticks.first, axis.low)
        XCTAssertEqual(axis.step, 0.5)
        XCTAssertEqual(axis.ticks.map(axis.label), ["0.5", "1.0", "1.5", "2.0", "2.5", "3.0"])
        let lr = Axis(covering: [0, 2e-4])
        XCTAssertEqual(lr.label(1e-4), "1e-4")
        let flat = Axis(covering: [3, 3])   // one value still gets a band and ticks
        XCTAssertLessThan(flat.low, 3)
        XCTAssertGreaterThan(flat.high, 3)
        XCTAssertGreaterThanOrEqual(flat.ticks.count, 2)
    }

    func testLineChartHasAxesTicksTitlesAndOneSeriesPerMetric() {
        let chart = LineChart(title: "Loss", xTitle: "step", yTitle: "loss (nats/token)", series: [
            ChartSeries("train/loss", points: (1...20).map { (Double($0), 3 / Double($0)) }),
            ChartSeries("eval/loss", points: [(10, 0.5), (20, 0.3)], dashed: true),
            ChartSeries("empty", points: []),
        ], secondaryXLabel: { "epoch \(ReportFormat.decimal($0 / 10, 1))" })
        let svg = chart.svg()
        XCTAssertEqual(count("class=\"x-axis\"", in: svg), 1)
        XCTAssertEqual(count("class=\"y-axis\"", in: svg), 1)
        XCTAssertGreaterThanOrEqual(count("class=\"tick\"", in: svg), 6)
        XCTAssertEqual(count("class=\"series\"", in: svg), 2, "a series without points is left out")
        XCTAssertTrue(svg.contains("data-series=\"train/loss\""))
        XCTAssertTrue(svg.contains("data-series=\"eval/loss\""))
        XCTAssertTrue(svg.contains(">loss (nats/token)</text>"))
        XCTAssertTrue(svg.contains(">step</text>"))
        XCTAssertTrue(svg.contains(">epoch 1.0</text>"))
        XCTAssertTrue(svg.contains("class=\"legend\""))
        XCTAssertEqual(count("<circle", in: svg), 2, "the sparse dashed series marks its points")
        XCTAssertFalse(svg.contains("<script"))
        XCTAssertEqual(LineChart(title: "t", xTitle: "x", yTitle: "y", series: []).svg(), "")
    }

    func testBarChartHasAYAxisFromZeroAndOneBarPerValue() {
        let svg = BarChart(title: "Rows by length", xTitle: "tokens", yTitle: "rows", categories: ["0", "16", "32"],
                           series: [("rows", [3, 10, nil])]).svg()
        XCTAssertEqual(count("<rect", in: svg), 2)
        XCTAssertTrue(svg.contains("class=\"y-axis\""))
        XCTAssertTrue(svg.contains(">rows</text>"))
        XCTAssertTrue(svg.contains(">0</text>"), "the y axis starts at zero")
        XCTAssertTrue(svg.contains(">10</text>"))
    }

    func testPageAndTableStyle() {
        var table = ReportTable(["name", "count"])
        table.add([.text("a<b"), .number(ReportFormat.integer(1234))])
        var page = ReportPage(title: "T & U")
        page.html(table.render())
        let html = page.render()
        XCTAssertTrue(html.contains("<th class=\"n\">count</th>"))
        XCTAssertTrue(html.contains("<td>a&lt;b</td><td class=\"n\">1,234</td>"))
        XCTAssertTrue(html.contains("<title>T &amp; U</title>"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"))
    }

    private func count(_ needle: String, in haystack: String) -> Int { haystack.components(separatedBy: needle).count - 1 }
}
