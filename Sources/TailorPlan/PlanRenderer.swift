// A plan as a text table for the terminal, with the recommendation and findings under it.
import Foundation

extension Plan {
    /// The memory table (bytes per device, binary units), time rows when known, then the recommendation and
    /// the findings.
    public func renderText() -> String {
        let r = request
        var lines: [String] = []
        lines.append("\(r.model.name): \(Plan.grouped(parameterCount)) parameters; \(r.deviceCount) × "
            + "\(ByteSize.format(r.memoryPerDevice.bytes)); seq \(r.sequenceLength), micro-batch \(r.microBatchSize) × "
            + "accumulation \(r.gradientAccumulation); \(r.weightDType.rawValue)"
            + (r.gradientCheckpointing ? ", gradient checkpointing" : "") + ", \(r.attention.rawValue) attention")
        lines.append("LoRA/QLoRA: r=\(loraRank), alpha \(String(format: "%g", loraAlpha)), targets \(r.loraTargets) "
            + "(\(targetedModuleCount) modules, \(Plan.grouped(adapterParameters)) adapter parameters)")
        var rows: [(String, [String])] = [
            ("weights", methods.map { ByteSize.format($0.memory.weights) }),
            ("gradients", methods.map { ByteSize.format($0.memory.gradients) }),
            ("optimizer", methods.map { ByteSize.format($0.memory.optimizer) }),
            ("adapters", methods.map { ByteSize.format($0.memory.adapters) }),
            ("activations", methods.map { ByteSize.format($0.memory.activations) }),
            ("overhead", methods.map { ByteSize.format($0.memory.overhead) }),
            ("total", methods.map { ByteSize.format($0.memory.total) }),
            ("fits?", methods.map { $0.memory.fits ? "yes" : "no" }),
            ("max micro-batch", methods.map { "\($0.maxMicroBatchSize)" }),
        ]
        if methods.contains(where: { $0.time.secondsPerStep != nil }) {
            rows.append(("time / step", methods.map { Plan.formatSeconds($0.time.secondsPerStep) }))
        }
        if methods.contains(where: { $0.time.secondsPerEpoch != nil }) {
            rows.append(("time / epoch", methods.map { Plan.formatSeconds($0.time.secondsPerEpoch) }))
        }
        let header = ["", ] + methods.map { $0.method.displayName }
        let labelWidth = max(rows.map { $0.0.count }.max() ?? 0, 0)
        let widths = (0..<methods.count).map { column in
            max(header[column + 1].count, rows.map { $0.1[column].count }.max() ?? 0)
        }
        func line(_ label: String, _ cells: [String]) -> String {
            let padded = label.padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            let columns = cells.enumerated().map {
                String(repeating: " ", count: widths[$0.offset] - $0.element.count) + $0.element
            }
            return padded + "  " + columns.joined(separator: "  ")
        }
        lines.append(line("", Array(header.dropFirst())))
        lines.append(String(repeating: "-", count: labelWidth + widths.reduce(0) { $0 + $1 + 2 }))
        lines += rows.map { line($0.0, $0.1) }
        lines.append("activations without / with gradient checkpointing: " + methods.map {
            "\($0.method.displayName) \(ByteSize.format($0.activationsWithoutCheckpointing)) / "
                + ByteSize.format($0.activationsWithCheckpointing)
        }.joined(separator: "; "))
        lines.append("")
        lines.append(recommendation.text)
        lines += findings.map { $0.description }
        return lines.joined(separator: "\n")
    }

    /// `134515008` → `"134,515,008"` (fixed, locale-independent, for golden CLI output).
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// `"1.25 s"`, `"12.5 min"`, `"3.2 h"`, `"-"` when unknown.
    static func formatSeconds(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        if seconds < 120 { return String(format: "%.2f s", seconds) }
        if seconds < 7200 { return String(format: "%.1f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }
}
