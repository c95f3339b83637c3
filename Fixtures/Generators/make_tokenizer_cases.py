#!/usr/bin/env python3
"""Reference ids for the Swift CLIP tokenizer's tests: writes Fixtures/tokenizer_extra_cases.json.

A faithful copy of the logic of OpenAI's clip/simple_tokenizer.py (bytes_to_unicode, bpe, the
split pattern with the `regex` module, basic_clean/whitespace_clean with html.unescape, the
vocabulary built from the merges as OpenAI builds it) plus clip.tokenize's start/end/truncate.

Each case is encoded twice:
  ids                         - exactly OpenAI's pipeline, with ftfy.fix_text
  ids_without_mojibake_repair - the same with ftfy.fix_text(text, fix_encoding=False) (what the
                                Swift port implements; the contract exempts mojibake repair)
needs_mojibake_repair is true when the two differ; the Swift tests then check the second.

Needs: pip install ftfy regex   (e.g. python3 -m venv /tmp/tokvenv; /tmp/tokvenv/bin/pip install ftfy regex)
Run:   /tmp/tokvenv/bin/python Fixtures/Generators/make_tokenizer_cases.py
It first re-checks Fixtures/clip-reference/tokenizer_cases.json and stops if any case differs.
"""
import html
import json
import os
import sys
import unicodedata

import ftfy
import regex as re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER_DIR = os.path.join(ROOT, "Fixtures", "clip-reference", "tiny-clip")
OUT = os.path.join(ROOT, "Fixtures", "tokenizer_extra_cases.json")
CONTEXT_LENGTH = 77


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


def get_pairs(word):
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def basic_clean(text, use_ftfy):
    text = ftfy.fix_text(text) if use_ftfy else ftfy.fix_text(text, fix_encoding=False)
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = re.sub(r'\s+', ' ', text)
    text = text.strip()
    return text


class SimpleTokenizer:
    def __init__(self, merges_path):
        self.byte_encoder = bytes_to_unicode()
        with open(merges_path, encoding="utf-8") as f:
            merges = f.read().split('\n')
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(merge.split()) for merge in merges]
        self.n_merges = len(merges)
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + '</w>' for v in vocab]
        for merge in merges:
            vocab.append(''.join(merge))
        vocab.extend(['<|startoftext|>', '<|endoftext|>'])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {'<|startoftext|>': '<|startoftext|>', '<|endoftext|>': '<|endoftext|>'}
        self.pat = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        pairs = get_pairs(word)
        if not pairs:
            return token + '</w>'
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = ' '.join(word)
        self.cache[token] = word
        return word

    def encode(self, text, use_ftfy):
        bpe_tokens = []
        text = whitespace_clean(basic_clean(text, use_ftfy)).lower()
        for token in re.findall(self.pat, text):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(' '))
        return bpe_tokens

    def tokenize(self, text, use_ftfy=True):
        """clip.tokenize(text, truncate=True) without the padding."""
        sot, eot = self.encoder['<|startoftext|>'], self.encoder['<|endoftext|>']
        tokens = [sot] + self.encode(text, use_ftfy) + [eot]
        if len(tokens) > CONTEXT_LENGTH:
            tokens = tokens[:CONTEXT_LENGTH]
            tokens[-1] = eot
        return tokens


CASES = [
    # HTML entities: named with and without ';', longest-prefix rule, numeric, invalid refs
    "Tom &amp Jerry &copy 2024 &copy2024",
    "&lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot; &apos;single&apos;",
    "fish &amp;amp; chips",
    "&amp;amp;amp; triple",
    "&notit; &notin; &ampx &AMP &Aacute; &aacute &unknownentity; &",
    "numeric &#65;&#66;&#x43;&#X44; &#x263A; &#128512;",
    "c1 refs &#x80; &#150; &#x9F; &#0; &#13; &#x1; &#xD800; &#1114112; &#99999999999999999999;",
    "nonchar &#xFDD0; &#xFFFE; &#x10FFFF; &#x; &#; &#xZZ;",
    "CounterClockwiseContourIntegral &CounterClockwiseContourIntegral; &NotNestedGreaterGreater;",
    "&amp&lt&gt no spaces &ampamp;",
    "&nbsp;non&nbsp;breaking&#160;spaces",
    # whitespace
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeed",
    "  leading and trailing \u3000\u00a0",
    "nbsp\u00a0thin\u2009ideographic\u3000line\u2028para\u2029nel\u0085",
    "file\x1cgroup\x1drecord\x1eunit\x1fseparators",
    "\x1c\x1d stripped \x1e\x1f",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    # non-Latin scripts
    "Ελληνικά ΟΔΟΣ ΣΊΣΥΦΟΣ Σ",
    "Русский текст, Україна",
    "中文字符和日本語のテキスト、한국어",
    "العربية עברית हिन्दी ไทย",
    "İstanbul ıi ǅungla ß ẞ ﬁ",
    # combining characters: NFD input that NFC composes, and marks that do not compose
    "cafe\u0301 nai\u0308ve re\u0301sume\u0301",
    "A\u030a ångström \u212b",
    "q\u0307\u0323 x\u0301\u0302 \u0301 alone",
    "i\u0345 \u1f80 ypogegrammeni\u0345!",
    # emoji
    "a photo of a 🐱 and 🐶",
    "family 👨‍👩‍👧‍👦 flag 🇫🇷 skin 👍🏽 keycap 1️⃣",
    # digits and numbers
    "numbers 0123456789 ½ ² Ⅻ ٣٤ ١٢٣ ४२",
    "3.14159 -42 +7 1,000,000 2024-01-01",
    # contractions and case
    "IT'S THEY'RE WE'LL I'D YOU'VE I'M DON'T",
    "it's 's 'S ''s 'x 'rex 'lla 'lll '",
    "it\u2019s curly quotes \u201chello\u201d",
    "long s: it'ſ 'ſ ſtart",
    # punctuation runs and special tokens in text
    "wow!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ ~~~",
    "a...b,c;d:e!f?g(h)i[j]k{l}m<n>o/p\\q|r",
    "<|startoftext|> inside <|endoftext|> and <|STARTOFTEXT|> x<|endoftext|>y !<|endoftext|>",
    "under_score hyphen-ated snake_case_name CamelCase",
    "url https://example.com/path?q=1&x=2#frag email me@example.org",
    # long
    "a photo of " + "very " * 100 + "long text",
    " ".join(str(i) for i in range(60)),
    # empty and whitespace only
    "",
    "   ",
    "\t\n",
    "&nbsp;",
]


def main():
    tok = SimpleTokenizer(os.path.join(TOKENIZER_DIR, "merges.txt"))
    with open(os.path.join(TOKENIZER_DIR, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    assert vocab == tok.encoder, "vocab.json differs from the vocabulary OpenAI builds from merges.txt"
    print("merges used:", tok.n_merges, "vocabulary:", len(tok.encoder), file=sys.stderr)

    with open(os.path.join(ROOT, "Fixtures", "clip-reference", "tokenizer_cases.json"), encoding="utf-8") as f:
        given = json.load(f)
    for case in given:
        got = tok.tokenize(case["text"])
        assert got == case["ids"], (case["text"], got, case["ids"])
    print("reference re-check: %d/%d given cases match" % (len(given), len(given)), file=sys.stderr)

    out = []
    for text in CASES:
        ids = tok.tokenize(text, use_ftfy=True)
        plain = tok.tokenize(text, use_ftfy=False)
        out.append({"text": text, "ids": ids, "ids_without_mojibake_repair": plain,
                    "needs_mojibake_repair": ids != plain})
    meta = {
        "generator": "Fixtures/Generators/make_tokenizer_cases.py",
        "python": sys.version.split()[0],
        "regex": re.__version__,
        "ftfy": ftfy.__version__,
        "unicodedata": unicodedata.unidata_version,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "cases": out}, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print("wrote %d cases (%d need mojibake repair) to %s" % (len(out), sum(c["needs_mojibake_repair"] for c in out), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
