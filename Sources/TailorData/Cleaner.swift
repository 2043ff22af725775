// Cleaning rules over samples: HTML stripping, empty/short/long responses, exact and near duplicates, sensitive
// content and prompt injection. Every rule reports how often it fired.
import Foundation

/// Which cleaning rules run, with their thresholds. Defaults: HTML stripped, empty responses dropped, responses
/// over 32,768 characters dropped, exact duplicates dropped, sensitive content and injection phrases flagged (not
/// dropped), near-duplicate detection off (MinHash costs time and needs a threshold chosen per dataset; turn it on
/// with `nearDuplicateThreshold`, e.g. 0.8).
public struct CleaningOptions: Sendable, Codable, Equatable {
    public var stripHTML = true
    public var dropEmptyResponses = true
    /// Responses shorter than this many characters (after trimming) are dropped; 0 disables.
    public var minResponseCharacters = 0
    /// Responses longer than this many characters are dropped; 0 disables.
    public var maxResponseCharacters = 32_768
    public var dropExactDuplicates = true
    /// Jaccard threshold for near-duplicates (0 < t ≤ 1), or nil for off.
    public var nearDuplicateThreshold: Double? = nil
    public var nearDuplicateSeed: UInt64 = 42
    /// Drop (instead of only flag) samples with e-mail addresses, phone numbers, keys, tokens or private keys.
    public var dropSensitive = false
    /// Drop (instead of only flag) samples with prompt-injection phrases.
    public var dropPromptInjection = false

    public init() {}
}

/// A cleaning rule and what it did.
public struct RuleCount: Sendable, Codable, Equatable {
    /// Rule name, e.g. "exact-duplicate", "sensitive:email".
    public var rule: String
    /// "dropped", "flagged" or "modified".
    public var action: String
    public var count: Int
    public var enabled: Bool
}

/// The outcome of cleaning: kept samples with their flags, and per-rule counts.
public struct CleaningResult: Sendable {
    public var kept: [SourcedSample]
    /// Flags per kept sample (same order as `kept`), e.g. ["sensitive:email"].
    public var flags: [[String]]
    public var rules: [RuleCount]
}

/// Applies `CleaningOptions` to samples in order; the first rule that drops a sample is the one counted.
public struct Cleaner {
    public var options: CleaningOptions
    private let scanner: SensitiveScanner

    public init(options: CleaningOptions) throws {
        if let t = options.nearDuplicateThreshold, !(t > 0 && t <= 1) {
            throw DataError.invalidOption("near-duplicate threshold \(t) must be in (0, 1]")
        }
        self.options = options
        scanner = try SensitiveScanner()
    }

    /// Whitespace-collapsed, lowercased text of all parts with their roles: the exact-duplicate key.
    public static func normalizedKey(_ sample: Sample) -> String {
        sample.parts.map { role, text in
            role + "\u{1}" + text.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        }.joined(separator: "\u{2}")
    }

    public func clean(_ samples: [SourcedSample]) -> CleaningResult {
        var counts: [String: Int] = [:]
        var kept: [SourcedSample] = []
        var flags: [[String]] = []
        var seen = Set<String>()
        let o = options
        for var item in samples {
            if o.stripHTML {
                let stripped = item.sample.mapText(HTMLStripper.strip)
                if stripped != item.sample { counts["html-stripped", default: 0] += 1; item.sample = stripped }
            }
            let responses = item.sample.responses
            let trimmed = responses.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if o.dropEmptyResponses && (trimmed.isEmpty || trimmed.contains(where: \.isEmpty)) {
                counts["empty-response", default: 0] += 1; continue
            }
            if o.minResponseCharacters > 0 && trimmed.contains(where: { $0.count < o.minResponseCharacters }) {
                counts["too-short-response", default: 0] += 1; continue
            }
            if o.maxResponseCharacters > 0 && responses.contains(where: { $0.count > o.maxResponseCharacters }) {
                counts["too-long-response", default: 0] += 1; continue
            }
            if o.dropExactDuplicates && !seen.insert(Self.normalizedKey(item.sample)).inserted {
                counts["exact-duplicate", default: 0] += 1; continue
            }
            let found = Set(item.sample.parts.flatMap { scanner.scan($0.text) })
            let kinds = SensitiveKind.allCases.filter(found.contains)
            for kind in kinds { counts[kind.isSecretOrPersonal ? "sensitive:\(kind.rawValue)" : kind.rawValue, default: 0] += 1 }
            if o.dropSensitive && kinds.contains(where: \.isSecretOrPersonal) { counts["sensitive-dropped", default: 0] += 1; continue }
            if o.dropPromptInjection && kinds.contains(.promptInjection) { counts["prompt-injection-dropped", default: 0] += 1; continue }
            kept.append(item)
            flags.append(kinds.map { $0.isSecretOrPersonal ? "sensitive:\($0.rawValue)" : $0.rawValue })
        }
        if let threshold = o.nearDuplicateThreshold {
            let dedup = MinHashDeduplicator(threshold: threshold, seed: o.nearDuplicateSeed)
            let texts = kept.map { $0.sample.parts.map(\.text).joined(separator: "\n") }
            let dup = dedup.duplicates(texts)
            counts["near-duplicate"] = dup.filter { $0 }.count
            kept = zip(kept, dup).filter { !$0.1 }.map(\.0)
            flags = zip(flags, dup).filter { !$0.1 }.map(\.0)
        }
        var rules: [RuleCount] = [
            RuleCount(rule: "html-stripped", action: "modified", count: counts["html-stripped"] ?? 0, enabled: o.stripHTML),
            RuleCount(rule: "empty-response", action: "dropped", count: counts["empty-response"] ?? 0, enabled: o.dropEmptyResponses),
            RuleCount(rule: "too-short-response", action: "dropped", count: counts["too-short-response"] ?? 0, enabled: o.minResponseCharacters > 0),
            RuleCount(rule: "too-long-response", action: "dropped", count: counts["too-long-response"] ?? 0, enabled: o.maxResponseCharacters > 0),
            RuleCount(rule: "exact-duplicate", action: "dropped", count: counts["exact-duplicate"] ?? 0, enabled: o.dropExactDuplicates),
            RuleCount(rule: "near-duplicate", action: "dropped", count: counts["near-duplicate"] ?? 0, enabled: o.nearDuplicateThreshold != nil),
        ]
        for kind in SensitiveKind.allCases {
            let name = kind.isSecretOrPersonal ? "sensitive:\(kind.rawValue)" : kind.rawValue
            let drops = kind.isSecretOrPersonal ? o.dropSensitive : o.dropPromptInjection
            rules.append(RuleCount(rule: name, action: drops ? "flagged (dropped)" : "flagged", count: counts[name] ?? 0, enabled: true))
        }
        rules.append(RuleCount(rule: "sensitive-dropped", action: "dropped", count: counts["sensitive-dropped"] ?? 0, enabled: o.dropSensitive))
        rules.append(RuleCount(rule: "prompt-injection-dropped", action: "dropped", count: counts["prompt-injection-dropped"] ?? 0, enabled: o.dropPromptInjection))
        return CleaningResult(kept: kept, flags: flags, rules: rules)
    }
}
