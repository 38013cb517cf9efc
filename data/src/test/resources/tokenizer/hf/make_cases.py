"""Writes the tokenizer.json files of this folder and cases.json, the ids and pre-tokenizer pieces
Hugging Face tokenizers gives for each (file, text); HfParityTest holds Crucible to them.
Run with the tokenizers package installed: python3 make_cases.py"""
import json, os
import tokenizers
from tokenizers import Tokenizer

here = os.path.dirname(os.path.abspath(__file__))


def byte_chars():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BC = byte_chars()
VOCAB = {BC[b]: b for b in range(256)}
for t in ["hi", "Ġh", "Ġhi", "bc", "ab", "abc"]:
    VOCAB[t] = len(VOCAB)
MERGES = [["h", "i"], ["Ġ", "h"], ["Ġh", "i"], ["b", "c"], ["a", "b"], ["ab", "c"]]


def byte_level(prefix, use_regex):
    return {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": use_regex}


def split(pattern, behavior, invert, kind="Regex"):
    return {"type": "Split", "pattern": {kind: pattern}, "behavior": behavior, "invert": invert}


def seq(*steps):
    return {"type": "Sequence", "pretokenizers": list(steps)}


TOKENIZERS = {
    "gpt2": (byte_level(False, True), None),
    "prefix": (byte_level(True, True), None),
    "ignore-merges": (byte_level(False, True), True),
    "no-regex": (byte_level(False, False), None),
    "isolated-digits": (seq(split("\\d", "Isolated", False), byte_level(False, False)), None),
    "two-splits": (seq(split(" ", "Isolated", False), split("\\d", "Isolated", False), byte_level(False, False)), None),
    "removed-prefix": (seq(split("-", "Removed", False, "String"), byte_level(True, False)), None),
}
for behavior in ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
    for invert in [False, True]:
        TOKENIZERS["split-%s%s" % (behavior, "-inverted" if invert else "")] = (
            seq(split("-", behavior, invert, "String"), byte_level(False, False)), None)
        TOKENIZERS["regex-%s%s" % (behavior, "-inverted" if invert else "")] = (
            seq(split("\\d+|x*", behavior, invert), byte_level(False, False)), None)

EOT = {"id": len(VOCAB), "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}


def added(content, i, special=False, normalized=True):
    return {"id": len(VOCAB) + i, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": normalized,
            "special": special}


# GPT-NeoX's (Pythia's) tokenizer.json keeps runs of spaces as added tokens that are not special, normalized, beside an NFC
# normalizer; here also a normalized token whose NFD spelling the normalizer composes, a normalized special one, tokens the
# normalizer changes (tokenizers matches them as normalized: the Angstrom sign as U+00C5, the fi ligature as "fi" under
# NFKC), and a token inside a special one that hides it when specials are text
NEOX_ADDED = [EOT, added("    ", 1), added("   ", 2), added("  ", 3), added("\u01d8", 4), added("<sep>", 5, special=True),
              added("\u212b", 6), added("\ufb01", 7), added("ab|", 8, normalized=False), added("<|ab|>", 9, special=True, normalized=False)]
NEOX_TEXTS = ["def f():\n    return 1", "a  b   c    d     e", "  hi", "hi  ", "<|endoftext|>  hi", "u\u0308\u0301 \u01d8x",
              "caf\u00e9 cafe\u0301", "hi<sep> hi", "\u212b\u0041\u030a", "\uff28i \ufb01", "fish", "q<|ab|>r", "qab|r"]
NORMALIZERS = {"neox": {"type": "NFC"}, "neox-nfkc-sequence": {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "NFKC"}]}}

TEXTS = ["hi", " hi", "<|endoftext|>hi", "hi<|endoftext|> hi", "<|endoftext|> hi<|endoftext|>", "abc", "ab12c", "the-final--countdown",
         "-a--b-", "a1b22c", "hi hi  hi", "x-1-y", "3 hi-4", ""]


def write():
    cases = []
    for name, (pre, ignore) in list(TOKENIZERS.items()) + [(n, (byte_level(False, True), None)) for n in NORMALIZERS]:
        model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                 "fuse_unk": False, "byte_fallback": False}
        if ignore is not None:
            model["ignore_merges"] = ignore
        model["vocab"] = VOCAB
        model["merges"] = MERGES
        tj = {"version": "1.0", "truncation": None, "padding": None,
              "added_tokens": NEOX_ADDED if name in NORMALIZERS else [EOT],
              "normalizer": NORMALIZERS.get(name), "pre_tokenizer": pre, "post_processor": None, "decoder": byte_level(False, True), "model": model}
        text = json.dumps(tj, ensure_ascii=False, indent=1)
        with open(os.path.join(here, name + ".json"), "w", encoding="utf-8") as f:
            f.write(text)
        tok = Tokenizer.from_str(text)
        for t in TEXTS + (NEOX_TEXTS if name in NORMALIZERS else []):
            pieces = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str(t)]
            case = {"tokenizer": name, "text": t, "ids": tok.encode(t, add_special_tokens=False).ids, "pieces": pieces}
            if name in NORMALIZERS:
                tok.encode_special_tokens = True  # special tokens as text, as Crucible encodes a corpus; the other added tokens still match
                case["ids_specials_as_text"] = tok.encode(t, add_special_tokens=False).ids
                tok.encode_special_tokens = False
            cases.append(case)
    with open(os.path.join(here, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers": tokenizers.__version__, "cases": cases}, f, ensure_ascii=False, indent=1)


write()
