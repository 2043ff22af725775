// Tokens to reply text: streaming detokenization, stop strings cut out, and a held-back tail that could still become a
// stop string so that a streamed reply never shows part of one.
import TailorTokenizers

/// The text of a reply as its tokens arrive.
struct ReplyText {
    private var detokenizer: StreamingDetokenizer
    private let stops: [[Unicode.Scalar]]
    private let holdBack: Int
    private var scalars: [Unicode.Scalar] = []
    private var emitted = 0
    /// True once a stop string appeared; the text ends before it.
    private(set) var hitStop = false

    init(tokenizer: Tokenizer, stops: [String]) {
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
        self.stops = stops.map { Array($0.unicodeScalars) }.filter { !$0.isEmpty }
        holdBack = max(0, (self.stops.map(\.count).max() ?? 0) - 1)
    }

    /// The whole text so far (stop string excluded).
    var text: String { String(String.UnicodeScalarView(scalars)) }

    /// Adds a token; returns the text that is now safe to send.
    mutating func append(_ id: Int32) -> String {
        guard !hitStop else { return "" }
        add(detokenizer.append(Int(id)))
        return flush(upTo: hitStop ? scalars.count : max(emitted, scalars.count - holdBack))
    }

    /// Ends the reply; returns the text not sent yet.
    mutating func finish() -> String {
        if !hitStop { add(detokenizer.finish()) }
        return flush(upTo: scalars.count)
    }

    private mutating func add(_ piece: String) {
        let searchFrom = max(0, scalars.count - holdBack)
        scalars += piece.unicodeScalars
        var cut: Int?
        for stop in stops where scalars.count >= stop.count {
            var i = searchFrom
            while i + stop.count <= scalars.count {
                if scalars[i..<(i + stop.count)].elementsEqual(stop) { cut = min(cut ?? i, i); break }
                i += 1
            }
        }
        if let cut {
            scalars.removeSubrange(cut...)
            hitStop = true
        }
    }

    private mutating func flush(upTo end: Int) -> String {
        guard end > emitted else { return "" }
        defer { emitted = end }
        return String(String.UnicodeScalarView(scalars[emitted..<end]))
    }
}
