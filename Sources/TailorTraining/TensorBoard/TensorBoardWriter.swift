// TensorBoard event files for a training run: one scalar per metric under Hugging Face Trainer's tag names
// (train/loss, train/learning_rate, train/grad_norm, train/epoch, eval/loss, …) and the configuration as text.
import Foundation
import SwiftProtobuf

/// Appends events to `<directory>/events.out.tfevents.<time>.<host>.<pid>`, as PyTorch's SummaryWriter names them.
public final class TensorBoardWriter {
    /// The folder to pass to `tensorboard --logdir`.
    public let directory: URL
    /// The event file.
    public let file: URL
    let handle: FileHandle

    public init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let now = Date().timeIntervalSince1970
        let host = ProcessInfo.processInfo.hostName.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        file = directory.appendingPathComponent("events.out.tfevents.\(Int(now)).\(host.isEmpty ? "localhost" : host).\(getpid())")
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw TrainingError.invalidConfiguration(key: "report_to", message: "cannot create \(file.path)")
        }
        handle = try FileHandle(forWritingTo: file)
        self.directory = directory
        var first = Tensorboard_Event()
        first.wallTime = now
        first.fileVersion = "brain.Event:2"
        try write(first)
    }

    deinit { try? handle.close() }

    /// The scalars of one step record; evaluation values go under eval/.
    public func add(_ record: StepRecord) throws {
        try addScalars(Self.scalars(of: record), step: record.step)
    }

    /// Metric name → value, with the tag names of Hugging Face's TensorBoardCallback ("eval_x" becomes "eval/x",
    /// anything else "train/x").
    public static func scalars(of r: StepRecord) -> [(tag: String, value: Double)] {
        var out: [(String, Double)] = [("train/loss", r.loss), ("train/learning_rate", r.learningRate),
                                       ("train/grad_norm", r.gradNorm), ("train/epoch", r.epoch),
                                       ("train/tokens", Double(r.tokens)), ("train/seconds", r.seconds)]
        if let samples = r.samples { out.append(("train/samples", Double(samples))) }
        if let bytes = r.peakMemoryBytes { out.append(("train/peak_memory_bytes", Double(bytes))) }
        if let loss = r.evalLoss { out.append(("eval/loss", loss)) }
        if let seconds = r.evalSeconds { out.append(("eval/runtime", seconds)) }
        return out
    }

    public func addScalars(_ scalars: [(tag: String, value: Double)], step: Int) throws {
        var summary = Tensorboard_Summary()
        summary.value = scalars.map { s in
            var v = Tensorboard_Summary.Value()
            v.tag = s.tag
            v.simpleValue = Float(s.value)
            return v
        }
        try write(event(step: step, summary: summary))
    }

    /// A text summary (shown in TensorBoard's Text tab; markdown is rendered).
    public func addText(tag: String, _ text: String, step: Int = 0) throws {
        var tensor = Tensorboard_TensorProto()
        tensor.dtype = 7   // DT_STRING
        tensor.tensorShape = Tensorboard_TensorShapeProto()
        tensor.stringVal = [Data(text.utf8)]
        var plugin = Tensorboard_SummaryMetadata.PluginData()
        plugin.pluginName = "text"
        var value = Tensorboard_Summary.Value()
        value.tag = tag
        value.metadata.pluginData = plugin
        value.tensor = tensor
        var summary = Tensorboard_Summary()
        summary.value = [value]
        try write(event(step: step, summary: summary))
    }

    public func close() throws { try handle.synchronize() }

    func event(step: Int, summary: Tensorboard_Summary) -> Tensorboard_Event {
        var e = Tensorboard_Event()
        e.wallTime = Date().timeIntervalSince1970
        e.step = Int64(step)
        e.summary = summary
        return e
    }

    func write(_ event: Tensorboard_Event) throws {
        try handle.write(contentsOf: TFRecord.frame(try event.serializedData()))
    }
}
