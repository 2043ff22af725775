// Finding personal data, credentials and prompt-injection phrases in sample text.
import Foundation

/// A kind of sensitive content.
public enum SensitiveKind: String, Sendable, Codable, CaseIterable {
    case email, phoneNumber = "phone-number", awsKey = "aws-key", githubToken = "github-token"
    case anthropicKey = "anthropic-key", openAIKey = "openai-key", bearerToken = "bearer-token", jwt
    case privateKey = "private-key", promptInjection = "prompt-injection"

    /// Whether this is personal data or a secret (dropped with dropSensitive) rather than an injection phrase.
    public var isSecretOrPersonal: Bool { self != .promptInjection }
}

/// Regular-expression scanner for `SensitiveKind`s. Patterns are deliberately specific (key prefixes, lengths,
/// separators) so that arithmetic, dates and ordinary prose do not fire.
public struct SensitiveScanner: @unchecked Sendable {
    // NSRegularExpression (ICU syntax: lookbehind, inline flags) is immutable after creation and documented as
    // safe to use from several threads.
    private let patterns: [(SensitiveKind, NSRegularExpression)]

    /// Source patterns, in scan order; the Anthropic key comes before the generic "sk-" OpenAI form.
    public static let sources: [(SensitiveKind, String)] = [
        (.email, #"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"#),
        // North-American numbers with separators, or "+CC" international numbers of 8+ digits in groups.
        (.phoneNumber, #"(?<![\w+])(?:\+?1[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?!\w)|(?<![\w+])\+\d{1,3}(?:[ .\-]?\d{2,4}){3,5}(?!\w)"#),
        (.awsKey, #"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b|(?i:aws_secret_access_key)\s*[:=]\s*['"]?[A-Za-z0-9/+=]{40}"#),
        (.githubToken, #"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"#),
        (.anthropicKey, #"\bsk-ant-[A-Za-z0-9_\-]{20,}"#),
        (.openAIKey, #"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{20,}"#),
        (.jwt, #"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"#),
        (.bearerToken, #"\b[Bb]earer\s+[A-Za-z0-9\-._~+/]{20,}=*"#),
        (.privateKey, #"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"#),
        (.promptInjection, #"(?i)\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|earlier|preceding|system|original)\s+(?:instructions?|prompts?|messages?|rules|directions|guidelines|context)|\b(?:reveal|print|show|repeat|output)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+prompt|hidden\s+instructions|initial\s+instructions)|\byou\s+are\s+now\s+(?:DAN|in\s+developer\s+mode|jailbroken|unrestricted)|\bdo\s+anything\s+now\b|\bpretend\s+(?:that\s+)?you\s+have\s+no\s+(?:rules|restrictions|guidelines)"#),
    ]

    public init() throws {
        patterns = try Self.sources.map { kind, source in
            do { return (kind, try NSRegularExpression(pattern: source)) } catch {
                throw DataError.invalidOption("built-in \(kind.rawValue) pattern does not compile: \(error)")
            }
        }
    }

    /// The kinds found in `text`, in scan order, each once.
    public func scan(_ text: String) -> [SensitiveKind] {
        let range = NSRange(text.startIndex..., in: text)
        return patterns.compactMap { kind, regex in regex.firstMatch(in: text, range: range) != nil ? kind : nil }
    }
}
