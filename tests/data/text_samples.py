"""Diverse texts for tokenizer parity tests: fixed edge cases plus freshly generated random ones.

The random generator mixes words, numbers, whitespace runs, CRLF, accents (composed and
decomposed), CJK, emoji, contractions, code and special-token text, so every run checks new
inputs; the seed is printed by the tests so a failure can be replayed.
"""
import random
import unicodedata

FIXED = [
    "",
    " ",
    "Hello world",
    "Hello, world! How're you doing? I'm fine; they'll see, we've been, she'd go.",
    "HOW'S IT GOING? I'M FINE. YOU'RE LATE, THEY'VE LEFT, WE'LL SEE, HE'D SAY, IT'S 'QUOTED'.",
    "   leading spaces and trailing spaces   ",
    "tabs\tand\t\tmore\t\t\ttabs\n\nnew lines\n\n\n",
    "windows\r\nline\r\nendings\r\n\r\n",
    "mixed \r\n \n\r \t\u00a0 \u3000 \u2028 \u2029 \u180e \u200b \u0085 spaces",
    "numbers: 0 1 12 123 1234 12345 3.14159 -42 1,000,000 1e-9 0x1F 2024-06-01 10:30",
    "unicode digits: \u0661\u0662\u0663 \u0967\u0968 \u2460\u2461 \u00bd \u00b2 \u2167 \uff11\uff12",
    "accents: caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00c5ngstr\u00f6m se\u00f1or fa\u00e7ade",
    "decomposed: cafe\u0301 nai\u0308ve A\u030angstro\u0308m n\u0303",
    "CJK: \u4eca\u65e5\u306f\u826f\u3044\u5929\u6c17\u3067\u3059\u3002\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8\u3002\ud55c\uad6d\uc5b4 \ud14c\uc2a4\ud2b8",
    "emoji: \U0001F600 \U0001F44D\U0001F3FD \U0001F468\u200d\U0001F469\u200d\U0001F467 \u2764\ufe0f \U0001F1FA\U0001F1F8",
    "code: def f(x):\n    return x**2 + 1  # comment\n\nfor (int i = 0; i < n; ++i) { a[i] += b[i]; }\n",
    "<html><body class=\"main\">&amp; &lt;tag&gt;</body></html>",
    "special: <|endoftext|>Next document<|endoftext|><|endoftext|> spaced <|endoftext|> end",
    "partial specials: <|endoftext| <|endof <|endoftext|>> <<|endoftext|>",
    "apostrophes: don't can't won't y'all 'tis rock'n'roll \u2019s \u2018quoted\u2019",
    "long s: \u017ftory \u017f's 'S 'T 'LL",
    "Greek \u039f\u03b4\u03c5\u03c3\u03c3\u03b5\u03cd\u03c2 Cyrillic \u041f\u0440\u0438\u0432\u0435\u0442 Arabic \u0645\u0631\u062d\u0628\u0627 Hebrew \u05e9\u05dc\u05d5\u05dd Hindi \u0928\u092e\u0938\u094d\u0924\u0947 Thai \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
    "Turkish \u0130stanbul \u0131\u0130 German Stra\u00dfe \u1e9e Kelvin \u212a Ohm \u2126",
    "control chars: \x00 \x01 \x07 \x1b[31m \x7f \x80",
    "a" * 300 + " " + "b" * 1000,
    " " * 50 + "x" + "\n" * 30 + "y",
    "!!!???...,,,;;;:::---___===+++***&&&%%%$$$###@@@",
]

WORDS = ("the of and to in is was he for it with as his on be at by I had this not are but from "
         "or have an they which one you were her all she there would their we him been has when "
         "who will more no if out so said what up its about into than them can only other new "
         "some could time these two may then do first any my now such like our over man me even "
         "most made after also did many before must through back years where much your way well "
         "down should because each just those people Mr how too little state good very make world "
         "still own see men work long get here between both life being under never day same "
         "another know while last might us great old year off come since against go came right "
         "used take three").split()

PIECES = [
    lambda r: r.choice(WORDS),
    lambda r: r.choice(WORDS).capitalize(),
    lambda r: r.choice(WORDS).upper(),
    lambda r: str(r.randint(0, 10 ** r.randint(1, 12))),
    lambda r: r.choice([" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00a0", "\u3000"]),
    lambda r: r.choice(["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "n't"]),
    lambda r: r.choice(".,;:!?()[]{}<>\"'`~@#$%^&*-_=+/\\|"),
    lambda r: r.choice(["caf\u00e9", "cafe\u0301", "\u00fcber", "u\u0308ber", "\u0130", "\u212b", "\uff21\uff22"]),
    lambda r: "".join(chr(r.randint(0x4E00, 0x9FFF)) for _ in range(r.randint(1, 6))),
    lambda r: r.choice(["\U0001F600", "\U0001F44D\U0001F3FD", "\u2764\ufe0f", "\U0001F680", "\U0001F1EF\U0001F1F5"]),
    lambda r: r.choice(["<|endoftext|>", "<|endoftext|> ", " <|endoftext|>", "<|endof"]),
    lambda r: r.choice(["x = f(y)", "if (a && b)", "return 0;", "    ", "# comment", "`code`", "->", "::"]),
    lambda r: random_code_point_string(r, r.randint(1, 4)),
]


def random_code_point_string(r, n):
    """Random Unicode scalar values, weighted towards the BMP: characters assigned in Unicode 14
    (what PCRE2 10.42 and Python 3.11 know) and unassigned ones from planes 4-13, which no Unicode
    version assigns. Characters added in 15.0 or later are left out: the tokenizers package's
    Oniguruma knows them and PCRE2 10.42 does not, a difference of versions (docs/data.md)."""
    out = []
    while len(out) < n:
        cp = r.randint(0, 0xFFFF) if r.random() < 0.8 else r.randint(0x10000, 0x10FFFF)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if unicodedata.category(chr(cp)) == "Cn" and not 0x40000 <= cp <= 0xDFFFF:
            continue
        out.append(chr(cp))
    return "".join(out)


def random_text(r, n_pieces):
    return "".join(r.choice(PIECES)(r) for _ in range(n_pieces))


def texts(seed, n_random=200):
    r = random.Random(seed)
    return FIXED + [random_text(r, r.randint(1, 60)) for _ in range(n_random)]


def training_corpus(seed, n_docs=400):
    """Text to train small tokenizers on: English-like words with the same mix of edge cases."""
    r = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        words = []
        for _ in range(r.randint(20, 120)):
            words.append(r.choice(WORDS) if r.random() < 0.8 else r.choice(PIECES)(r))
        docs.append(" ".join(words))
    return FIXED + docs


def normalization_agrees(ch):
    """Whether the tokenizers package's Unicode tables agree with Python's (Unicode 14.0, close to
    utf8proc's) on this character. Its normalization crate predates Unicode 14, so characters it
    does not know (e.g. U+A7F3, NFKD -> 'F' since 14.0) are normalized differently by design."""
    from tokenizers import normalizers
    if unicodedata.category(ch) == "Cn":
        return False
    expected_strip = "" if unicodedata.category(ch).startswith("M") else ch
    return (normalizers.NFKD().normalize_str(ch) == unicodedata.normalize("NFKD", ch)
            and normalizers.NFC().normalize_str(ch) == unicodedata.normalize("NFC", ch)
            and normalizers.Lowercase().normalize_str(ch) == ch.lower()
            and normalizers.StripAccents().normalize_str(ch) == expected_strip)


_AGREES = {}


def restrict_to_known(text):
    """Replaces characters whose normalization differs only by Unicode version with '?'."""
    out = []
    for ch in text:
        if ch not in _AGREES:
            _AGREES[ch] = ord(ch) < 0x80 or normalization_agrees(ch)
        out.append(ch if _AGREES[ch] else "?")
    return "".join(out)
