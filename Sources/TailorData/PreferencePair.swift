// A preference pair as token ids, and the one rule every pair passes before training, evaluation or `prepare`.

/// One preference pair as token ids: the prompt, and the chosen and rejected completions (EOS included).
public struct PreferencePair: Sendable, Equatable, Codable {
    public var promptIDs: [Int32]
    public var chosenIDs: [Int32]
    public var rejectedIDs: [Int32]

    public init(promptIDs: [Int32], chosenIDs: [Int32], rejectedIDs: [Int32]) {
        self.promptIDs = promptIDs
        self.chosenIDs = chosenIDs
        self.rejectedIDs = rejectedIDs
    }

    enum CodingKeys: String, CodingKey {
        case promptIDs = "prompt_ids", chosenIDs = "chosen_ids", rejectedIDs = "rejected_ids"
    }

    /// Why the pair cannot be trained on, or nil: both completions present and different, and the prompt shorter
    /// than `maxLength` (TRL drops such rows: truncation would leave no completion token).
    public func problem(maxLength: Int) -> PreferenceRowError? {
        if promptIDs.count >= maxLength {
            return PreferenceRowError(.promptTooLong, "the prompt has \(promptIDs.count) tokens, not fewer than max_length \(maxLength)")
        }
        if chosenIDs.isEmpty { return PreferenceRowError(.emptyCompletion, "the chosen completion is empty") }
        if rejectedIDs.isEmpty { return PreferenceRowError(.emptyCompletion, "the rejected completion is empty") }
        if chosenIDs == rejectedIDs { return PreferenceRowError(.identical, "chosen and rejected are identical") }
        return nil
    }

    /// The pair, or the error `problem(maxLength:)` finds.
    public func validated(maxLength: Int) throws -> PreferencePair {
        if let problem = problem(maxLength: maxLength) { throw problem }
        return self
    }
}

/// Why one preference row is unusable (readers add file and line).
public struct PreferenceRowError: Error, CustomStringConvertible, Sendable {
    /// The kinds of bad rows, named as `prepare` counts them.
    public enum Kind: String, Sendable, CaseIterable {
        case malformed, promptTooLong = "prompt-too-long", emptyCompletion = "empty-completion", identical = "identical-pair"
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind = .malformed, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}
