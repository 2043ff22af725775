// MinHash signatures over word shingles and LSH banding, for near-duplicate detection.
import TailorTensor
import Foundation

/// Near-duplicate detector: Jaccard similarity of word-shingle sets, estimated with MinHash.
///
/// Text is lowercased and split on non-alphanumerics; shingles are runs of `shingleSize` words (texts shorter
/// than that give one shingle). Each shingle is hashed with 64-bit FNV-1a; permutation k maps a hash h to
/// `(a_k·h + b_k) mod (2^61 − 1)` with a_k, b_k drawn from SplitMix64(seed). The signature is the per-permutation
/// minimum. Candidates come from LSH banding (bands × rows = permutations, the pair of band count and width whose
/// S-curve threshold (1/b)^(1/r) is the highest not above the requested threshold); a candidate is a duplicate when
/// the fraction of equal signature entries is ≥ the threshold. The earliest sample of a group is kept.
public struct MinHashDeduplicator: Sendable {
    public var threshold: Double
    public var permutations: Int
    public var shingleSize: Int
    private let a: [UInt64]
    private let b: [UInt64]
    private static let prime: UInt64 = (1 << 61) - 1

    public init(threshold: Double, permutations: Int = 128, shingleSize: Int = 3, seed: UInt64 = 42) {
        self.threshold = threshold
        self.permutations = permutations
        self.shingleSize = max(1, shingleSize)
        var rng = SplitMix64(seed: seed ^ 0x6D69_6E68_6173_6800)
        a = (0..<permutations).map { _ in rng.next() % (Self.prime - 1) + 1 }
        b = (0..<permutations).map { _ in rng.next() % Self.prime }
    }

    /// (a·h + b) mod 2^61−1 with a 128-bit product.
    private static func mulAddMod(_ a: UInt64, _ h: UInt64, _ b: UInt64) -> UInt64 {
        let (hi, lo) = a.multipliedFullWidth(by: h % prime)
        // 2^64 ≡ 2^3 (mod 2^61−1): fold the high word down.
        var x = (lo & prime) &+ (lo >> 61) &+ (hi << 3)
        x = (x & prime) &+ (x >> 61)
        x = (x & prime) &+ (x >> 61)
        x = x >= prime ? x - prime : x
        let y = x &+ b
        return y >= prime ? y - prime : y
    }

    static func fnv1a(_ s: Substring) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in s.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// The word shingles of `text`.
    public func shingles(_ text: String) -> Set<String> {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }
        guard words.count > shingleSize else { return words.isEmpty ? [] : [words.joined(separator: " ")] }
        return Set((0...(words.count - shingleSize)).map { words[$0..<($0 + shingleSize)].joined(separator: " ") })
    }

    /// The MinHash signature of `text`.
    public func signature(_ text: String) -> [UInt64] {
        var sig = [UInt64](repeating: .max, count: permutations)
        for shingle in shingles(text) {
            let h = Self.fnv1a(Substring(shingle))
            for k in 0..<permutations { sig[k] = min(sig[k], Self.mulAddMod(a[k], h, b[k])) }
        }
        return sig
    }

    /// Estimated Jaccard similarity of two signatures.
    public static func similarity(_ x: [UInt64], _ y: [UInt64]) -> Double {
        guard !x.isEmpty, x.count == y.count else { return 0 }
        return Double(zip(x, y).filter { $0 == $1 }.count) / Double(x.count)
    }

    /// (bands, rows) for the LSH index.
    var banding: (bands: Int, rows: Int) {
        var best = (bands: permutations, rows: 1)
        var r = 1
        while r <= permutations {
            if permutations % r == 0 {
                let bands = permutations / r
                let t = Foundation.pow(1.0 / Double(bands), 1.0 / Double(r))
                if t <= threshold { best = (bands, r) }
            }
            r += 1
        }
        return best
    }

    /// For each text, whether it is a near-duplicate of an earlier one.
    public func duplicates(_ texts: [String]) -> [Bool] {
        let (bands, rows) = banding
        var buckets: [[UInt64]: [Int]] = [:]
        var signatures: [[UInt64]] = []
        var result = [Bool](repeating: false, count: texts.count)
        for (i, text) in texts.enumerated() {
            let sig = signature(text)
            signatures.append(sig)
            var candidates = Set<Int>()
            var keys: [[UInt64]] = []
            for band in 0..<bands {
                let key = [UInt64(band)] + sig[(band * rows)..<((band + 1) * rows)]
                keys.append(key)
                for j in buckets[key] ?? [] { candidates.insert(j) }
            }
            if candidates.contains(where: { Self.similarity(sig, signatures[$0]) >= threshold }) {
                result[i] = true
                continue  // a duplicate is not indexed, so chains compare against kept samples only
            }
            for key in keys { buckets[key, default: []].append(i) }
        }
        return result
    }
}
