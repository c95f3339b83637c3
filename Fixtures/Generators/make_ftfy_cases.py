#!/usr/bin/env python3
"""Reference cases for the tokenizer's text fixes: writes Fixtures/ftfy_cases.json.

Each case holds a line of text and
  fixed                        - ftfy.fix_text(text, fix_encoding=False): every default fix of
                                 ftfy but mojibake repair, which the contract exempts
  ids                          - OpenAI's simple_tokenizer ids (full ftfy.fix_text)
  ids_without_mojibake_repair  - the same pipeline with fix_text(text, fix_encoding=False)
  needs_mojibake_repair        - true when the two id lists differ

The lines are real text with typographic characters: non-ASCII lines of the licence files under
/usr/share/doc/*/copyright and of the (translated) manual pages under /usr/share/man, taken in
sorted order with a fixed stride, plus hand-written lines for the fixes such text rarely shows
(full-width forms, ligatures, C1 and C0 controls, terminal escapes, line breaks, entities).
The JSON keeps the lines, so the tests do not depend on this machine's files.

Needs: python3 -m venv /tmp/ftfy-venv && /tmp/ftfy-venv/bin/pip install ftfy regex
Run:   /tmp/ftfy-venv/bin/python Fixtures/Generators/make_ftfy_cases.py
The tokenizer is the faithful copy of simple_tokenizer in make_tokenizer_cases.py.
"""
import glob
import gzip
import html
import importlib.util
import json
import os
import sys
import unicodedata

import ftfy
import regex as re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "Fixtures", "ftfy_cases.json")

spec = importlib.util.spec_from_file_location("make_tokenizer_cases", os.path.join(HERE, "make_tokenizer_cases.py"))
mtc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mtc)

HANDWRITTEN = [
    # curly quotes and apostrophes as word processors write them
    "Don’t panic — it’s only a “test”.",
    "a photo of a person who doesn’t smile",
    "‘single’ ‚low‘ ‛reversed’ „low double“ ‟reversed double” ʼn ʼokina",
    "She said, “It’s the dog’s bowl,” and left.",
    "I’m, you’re, we’ve, they’ll, he’d — contractions with U+2019",
    # full-width forms (CJK input methods)
    "ＬＯＵＤ　ＮＯＩＳＥＳ",
    "问题：这是什么？（测试）！",
    "価格：１２３４円（税込）",
    "全角ＡＢＣｘｙｚ０１２３４５６７８９",
    "ｶﾀｶﾅ ﾊﾝｶｸ ｶﾞｷﾞｸﾞ ﾟﾞ",
    "￠￡￢￣￤￥￦ ￨￩￪￫￬￭￮",
    "full-width ＆amp； and ＆ａｍｐ; ＜b＞",
    "".join(chr(c) for c in range(0xFF01, 0xFF60)),
    "".join(chr(c) for c in range(0xFF60, 0xFFA0)),
    "".join(chr(c) for c in range(0xFFA0, 0xFFF0)),
    # ligatures
    "The ﬁrst ﬂoor oﬃce has ﬀ and ﬄ and ﬅ ﬆ",
    "Ĳsselmeer ĳs ǅ ǆ Ǆ ǈ ǉ Ǉ ǋ ǌ Ǌ ǲ ǳ Ǳ ŉ",
    "a ﬁsh in an aﬃne space",
    # C1 controls (Windows-1252 read as Latin-1)
    "\x93smart quotes\x94 and \x91single\x92 \x96 dash \x97",
    "price \x80 5 \x85 more \x99 \x8a\x8c\x8e\x9a\x9c\x9e\x9f",
    "undefined \x81 \x8d \x8f \x90 \x9d kept",
    # C0 controls, DEL, format characters, BOM
    "bell\x07 backspace\x08 null\x00 esc-alone\x1b del\x7f",
    "\ufeffbyte order mark at start",
    "inhibit\u206a symmetric\u206b swapping\u206f",
    "interlinear\ufff9 annotation\ufffa\ufffb\ufffc object",
    "form\x0cfeed and vertical\x0btab",
    # terminal escapes
    "\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[m",
    "\x1b[38;5;196mcolour\x1b[0m \x1b[K\x1b[2J cleared",
    "not an escape \x1b[ 31m or \x1b]0;title\x07",
    "arabic digits \x1b[\u0663\u0661mx",
    # line breaks
    "windows\r\nline\r\nbreaks",
    "old mac\rline\rbreaks",
    "unicode line\u2028separator and para\u2029graph and next\u0085line",
    "\r\n\r\n",
    # NBSP and other spaces
    "100\xa0km and 5\u202f%",
    "«\xa0Bonjour\xa0» dit-il\xa0!",
    "em\u2003space thin\u2009space hair\u200aspace",
    # HTML entities, including ftfy's upper-case forms and the '<' rule
    "Broken text&hellip; it&#x2019;s ﬂubberiﬁc!",
    "&NTILDE;ANDU &EACUTE;T&EACUTE; &AMP; &LT; &COPY;",
    "&amp;amp;amp;amp; nested",
    "&#150; &#x80; &#x2019; &#8217; &#39; &#0;",
    "&notanentity; &ampx; &#xZZ; &#12345678901234567890123;",
    "<b>html &amp; tags</b> keep &amp;",
    "first line &amp;\n<second line> &amp;\nthird line &amp;",
    "first line &amp;\nsecond line &amp;",
    "&AElig; &aelig; &AELIG; &SZLIG; &szlig; &FILIG;",
    "&#x3C;b&#x3E; numeric angle brackets",
    # combinations that need more than one round
    "＆ｌｔ；",
    "\x93&amp;\x94",
    "ﬁ\u0301 ligature then accent",
    "e\u0301\u0327 cafe\u0301",
    # prompts as people write them
    "a photo of a “doctor”",
    "a photo of a nurse’s uniform",
    "A PHOTO OF A ＣＥＯ",
    "a photo of a ﬁreﬁghter",
]


def real_lines():
    """Non-ASCII lines of licence files and manual pages, in sorted order with a stride."""
    licence = set()
    for path in sorted(glob.glob("/usr/share/doc/*/copyright")):
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if line and any(ord(c) > 127 for c in line) and len(line) < 300:
                        licence.add(line)
        except (UnicodeDecodeError, OSError):
            continue
    manual = set()
    for path in sorted(glob.glob("/usr/share/man/*/man*/*.gz")):
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if line and any(ord(c) > 127 for c in line) and len(line) < 300:
                        manual.add(line)
        except (UnicodeDecodeError, OSError, EOFError):
            continue
    licence, manual = sorted(licence), sorted(manual)
    # Lines ftfy changes are the point; keep all of those, and a stride of the others.
    def pick(lines, n):
        changed = [l for l in lines if ftfy.fix_text(l, fix_encoding=False) != unicodedata.normalize("NFC", l)]
        rest = [l for l in lines if l not in set(changed)]
        stride = max(1, len(rest) // n)
        return changed[:n] + rest[::stride][:n]
    return pick(licence, 120), pick(manual, 80)


def main():
    tok = mtc.SimpleTokenizer(os.path.join(mtc.TOKENIZER_DIR, "merges.txt"))

    def ids(text, fix):
        sot, eot = tok.encoder['<|startoftext|>'], tok.encoder['<|endoftext|>']
        text = mtc.whitespace_clean(html.unescape(html.unescape(fix(text))).strip()).lower()
        out = []
        for token in re.findall(tok.pat, text):
            token = ''.join(tok.byte_encoder[b] for b in token.encode('utf-8'))
            out.extend(tok.encoder[t] for t in tok.bpe(token).split(' '))
        out = [sot] + out + [eot]
        if len(out) > mtc.CONTEXT_LENGTH:
            out = out[:mtc.CONTEXT_LENGTH]
            out[-1] = eot
        return out

    licence, manual = real_lines()
    cases = []
    for source, lines in (("handwritten", HANDWRITTEN), ("licence", licence), ("manual", manual)):
        for text in lines:
            if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
                continue  # a Swift string cannot hold an unpaired surrogate
            full = ids(text, ftfy.fix_text)
            partial = ids(text, lambda t: ftfy.fix_text(t, fix_encoding=False))
            cases.append({
                "source": source,
                "text": text,
                "fixed": ftfy.fix_text(text, fix_encoding=False),
                "ids": full,
                "ids_without_mojibake_repair": partial,
                "needs_mojibake_repair": full != partial,
            })
    meta = {
        "generator": "Fixtures/Generators/make_ftfy_cases.py",
        "python": sys.version.split()[0],
        "regex": re.__version__,
        "ftfy": ftfy.__version__,
        "unicodedata": unicodedata.unidata_version,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        # One case a line keeps the file short and its diffs readable.
        f.write('{"meta": %s, "cases": [\n' % json.dumps(meta))
        f.write(",\n".join(json.dumps(c, ensure_ascii=True) for c in cases))
        f.write("\n]}\n")
    changed = sum(c["fixed"] != unicodedata.normalize("NFC", c["text"]) for c in cases)
    print("wrote %d cases (%d changed by ftfy beyond NFC, %d need mojibake repair) to %s"
          % (len(cases), changed, sum(c["needs_mojibake_repair"] for c in cases), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
