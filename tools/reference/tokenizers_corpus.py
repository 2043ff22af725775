# Deterministic multilingual test corpus for the TailorTokenizers fixtures and benchmark.
# Pinned: tokenizers==0.23.3, transformers==5.24.0, gguf==0.19.0 (see requirements-tokenizers.txt).
# Used by tokenizers_fixtures.py (fixtures) and tools/bench/tokenizer_bench.py (speed).
import random

ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you'll see it's fine; they've said we'd go, but I'd rather not.",
    "DON'T SHOUT! IT'S LOUD. We'RE here, YOU'LL see, he'S gone, I'M in, they'VE, I'D, 'Tis.",
    "Fine-tuning LoRA adapters on 4-bit quantized weights (QLoRA) saves memory.",
    "Hello, world!  Hello,   world!\tTabs\tand\nnewlines\n\nare here.",
    "E-mail me at someone@example.com or visit https://example.org/path?q=1&r=2#frag.",
    "Prices: $1,234.56; 78% off; 3.14159265358979; 1e-10; -42; +7; 0x1F; 0b1010.",
    "Mr. O'Neil's dog's bone isn't the cat's toy.",
    "Well... this -- is -- a test?! (Really.) [Yes] {No} <Maybe>",
    "  leading spaces and trailing spaces   ",
    "ALL CAPS SENTENCE WITH NUMBERS 12345 AND SYMBOLS #@!",
    "naïve café résumé coöperate façade jalapeño Zürich Ærø Œuvre ßtraße",
]
CHINESE = ["我爱自然语言处理。", "今天天气很好，我们去公园散步吧！", "机器学习模型需要大量的数据进行训练。",
           "中文、English 混合 text 123 测试。", "「引号」和《书名号》以及——破折号……省略号"]
JAPANESE = ["こんにちは、世界！", "東京は日本の首都です。カタカナとひらがなと漢字。", "ｶﾀｶﾅ半角とＡＢＣ全角１２３",
            "吾輩は猫である。名前はまだ無い。"]
ARABIC = ["مرحبا بالعالم", "اللغة العربية جميلة جداً ١٢٣٤٥٦٧٨٩٠", "السَّلَامُ عَلَيْكُمْ"]
HINDI = ["नमस्ते दुनिया", "मुझे हिंदी पढ़ना पसंद है। ०१२३४५६७८९", "क्षत्रिय ज्ञान श्री"]
OTHER = ["안녕하세요 세계", "Привет, мир! Ёжик в тумане.", "Γειά σου Κόσμε· ΑΒΓ αβγ ς", "שלום עולם",
         "สวัสดีชาวโลก", "Xin chào thế giới, Tiếng Việt", "ǅungla ǈ ǋ ᾈ ᾉ (titlecase letters)",
         "ſtraße 'ſ 'ﬅ ﬁ ﬂ ﬀ", "Ⅻ ⅻ ½ ¾ ² ³ ① ⑩ ᛮ 𐍁 ߀ ၀ ๑", "e\u0301 a\u0300 n\u0303 o\u0308 (decomposed)",
         "\u1100\u1161\u11a8 (jamo)", "Å Å Ω Ω K K (compat singletons)"]
CODE = [
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += arr[i];\n}\n",
    "let x: [String: Int] = [\"a\": 1, \"b\": 2]\nguard let y = x[\"a\"] else { return }\n",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }\r\n",
    "    if x == 1:\r\n        pass\r\n\r\n\r\n    else:\n\t\t\tpass",
    "const f = async () => { await fetch(`/api/${id}`); }; // comment\n/* block */",
]
EMOJI = ["👍 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇺🇸🇯🇵 ❤️ ✨🚀", "I ❤️ 🍕!!", "👩🏾‍💻 writes code; 🧑‍🚀 flies", "😀😃😄😁😆😅😂🤣",
         "#️⃣ *️⃣ 1️⃣ © ® ™ ☕︎ ☕️"]
WHITESPACE = [" ", "  ", "   x", "\t", "\n", "\r\n", "\n\n\n", " \n ", "a  b   c    d", "a\t\tb", "x \n\n y",
              "line1\r\nline2\rline3\n", "trailing   ", "   ", "\u00a0nbsp\u00a0 \u2003em\u3000ideo",
              "\u0085nel\u2028ls\u2029ps\u1680ogham\u180emvs\u200bzwsp\ufeffbom", "\u001cfs\u001dgs\u001erd\u001fus",
              "\u000bvt\u000cff", "a \u00a0 b", " \t \n \r\n\t x", "\n \n \n a"]
SPECIALS = ["<|endoftext|>", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "<|im_start|><|im_end|>",
            "< |endoftext|>", "<|endoftext", "endoftext|>", "<|im", "<|im_star", "<s> </s> <unk>", "<s>hello</s>",
            "<|begin_of_text|>Hello<|end_of_text|>", "[MASK]", "a [MASK] b", "a   [MASK]   b", "<rs>   x", "x<rs>",
            "<both>", " <both> ", "a<both>b", "word", "a word here", "swordfish", "word_", "_word", "wordy words",
            "hello world", "hello  world", "Hello world", "hello worldwide", "say hello world!", "CAFÉ", "CAFE\u0301",
            "<|im_start|>system\nYou are helpful.<|im_end|>", "<<|im_end|>>", "<|im_end|><|im_end|>", "|><|"]
DIGITS = ["1", "12", "123", "1234", "12345678901234567890", "3.14159", "2024-01-01", "10,000,000", "a1b22c333d4444",
          "٠١٢٣٤٥٦٧٨٩", "१२३४", "１２３４５", "0000000000000000000000000000000000000001", "v1.2.3-rc4", "x²+y³=z⁴"]
CONTROL = ["\x00", "a\x00b", "\x07bell", "esc\x1b[0m", "\x7fdel", "\x01\x02\x03", "tab\there"]

# Pools for random strings: mixes every class the regexes distinguish.
POOL = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") * 4 + list("0123456789") * 3 +
        list("          ") + list("\t\n\r") + list("'''\"!?.,;:-_()[]{}<>/\\|@#$%^&*+=~`") +
        list("éüñçßøåæœ") + list("我爱中文字") + list("こんにちはカタ") + list("مرحبا") + list("नमस्ते") +
        list("한국어") + list("Ωαβγ") + list("٠١٢१२３½²①Ⅻ") + ["\u00a0", "\u3000", "\u2003", "\u0085", "\u200b",
                                                          "\u2028", "\u000b", "\u000c", "\u001f", "\u180e"] +
        ["\u0301", "\u0308", "\u200d", "\ufe0f"] + list("👍😀🚀❤") + ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
                                                                 "'S", "'RE", "'Ll", "'ſ"])
WORDS = ("the of and to in is you that it he was for on are as with his they at be this have from or one had by "
         "word but not what all were we when your can said there use an each which she do how their if will up "
         "other about out many then them these so some her would make like him into time has look two more write "
         "go see number no way could people my than first water been call who oil its now find long down day did "
         "get come made may part tokenizer model training gradient adapter quantization").split()


def random_text(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return "".join(rng.choice(POOL) for _ in range(rng.randrange(1, 40)))
    if kind == 1:
        sep = rng.choice([" ", "  ", "\n", " \n", "\t", ", ", ". "])
        return sep.join(rng.choice(WORDS) for _ in range(rng.randrange(1, 25)))
    if kind == 2:
        base = rng.choice(ENGLISH + CHINESE + JAPANESE + ARABIC + HINDI + OTHER + CODE + EMOJI)
        cut = sorted(rng.randrange(len(base) + 1) for _ in range(2))
        return base[cut[0]:cut[1]] + rng.choice(["", " ", "\n", "  ", "1234"]) + base[:cut[0]]
    if kind == 3:
        return "".join(rng.choice([rng.choice(WORDS), str(rng.randrange(10 ** rng.randrange(1, 12))),
                                   rng.choice(SPECIALS), " " * rng.randrange(0, 5), rng.choice(EMOJI)])
                       for _ in range(rng.randrange(1, 8)))
    if kind == 4:
        return rng.choice(WHITESPACE) + rng.choice(WORDS) + rng.choice(WHITESPACE) + rng.choice(DIGITS)
    # Case variations of contractions and mixed scripts.
    w = rng.choice(WORDS)
    return (w.upper() if rng.random() < 0.5 else w) + rng.choice(["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve",
                                                                     "'VE", "'m", "'M", "'ll", "'LL", "'d", "'D",
                                                                     "'x", "''s", "'ſ"]) + rng.choice(
        [" ", "", "!", " 42", "\n"]) + rng.choice(CHINESE + HINDI)


def build_corpus(count: int = 2200, seed: int = 1234) -> list[str]:
    fixed = ENGLISH + CHINESE + JAPANESE + ARABIC + HINDI + OTHER + CODE + EMOJI + WHITESPACE + SPECIALS + DIGITS + CONTROL
    fixed.append("")
    fixed.append("a" * 300)
    fixed.append("9" * 100)
    fixed.append(" " * 50 + "x")
    fixed.append("\n" * 20)
    fixed.append("ab" * 100)
    rng = random.Random(seed)
    out = list(fixed)
    while len(out) < count:
        out.append(random_text(rng))
    return out


def long_corpus(seed: int = 99, total_bytes: int = 2_000_000) -> list[str]:
    """A larger corpus (same generators, longer documents) for the speed benchmark."""
    rng = random.Random(seed)
    base = build_corpus()
    docs, size = [], 0
    while size < total_bytes:
        doc = " ".join(rng.choice(base) for _ in range(rng.randrange(5, 40)))
        docs.append(doc)
        size += len(doc.encode("utf-8"))
    return docs
