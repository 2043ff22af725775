// The server's Prometheus metrics (swift-prometheus, own registry: no process-wide state).
import Foundation
import Prometheus

/// Counters and histograms the handlers update; gauges are read from the engine when /metrics is scraped.
final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let promptTokens: Counter
    let generatedTokens: Counter
    let timeToFirstToken: DurationHistogram
    let timePerOutputToken: DurationHistogram
    let queueLength: Gauge
    let batchOccupancy: Gauge
    let loadedAdapters: Gauge
    let cancelledRequests: Gauge

    init() {
        promptTokens = registry.makeCounter(name: "tailor_prompt_tokens_total", help: "Prompt tokens read")
        generatedTokens = registry.makeCounter(name: "tailor_generation_tokens_total", help: "Tokens generated")
        let ttft: [Duration] = [.milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30)]
        timeToFirstToken = registry.makeDurationHistogram(name: "tailor_time_to_first_token_seconds", buckets: ttft,
                                                          help: "Time from request to first generated token")
        let perToken: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40), .milliseconds(80),
                                    .milliseconds(160), .milliseconds(320), .milliseconds(640), .seconds(1)]
        timePerOutputToken = registry.makeDurationHistogram(name: "tailor_time_per_output_token_seconds", buckets: perToken,
                                                            help: "Time between generated tokens of a request")
        queueLength = registry.makeGauge(name: "tailor_queue_length", help: "Requests waiting for a batch slot")
        batchOccupancy = registry.makeGauge(name: "tailor_batch_occupancy", help: "Requests in the running batch")
        loadedAdapters = registry.makeGauge(name: "tailor_loaded_adapters", help: "LoRA adapters loaded")
        cancelledRequests = registry.makeGauge(name: "tailor_cancelled_requests",
                                               help: "Requests ended early since the start (client gone or shutdown)")
    }

    /// Counts a finished request by endpoint and HTTP status.
    func countRequest(endpoint: String, status: Int) {
        registry.makeCounter(name: "tailor_requests_total", labels: [("endpoint", endpoint), ("status", String(status))],
                             help: "HTTP requests answered").increment()
    }

    /// The text exposition format.
    func render() -> String {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
