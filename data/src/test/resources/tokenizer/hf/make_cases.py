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

TEXTS = ["hi", " hi", "<|endoftext|>hi", "hi<|endoftext|> hi", "<|endoftext|> hi<|endoftext|>", "abc", "ab12c", "the-final--countdown",
         "-a--b-", "a1b22c", "hi hi  hi", "x-1-y", "3 hi-4", ""]


def write():
    cases = []
    for name, (pre, ignore) in TOKENIZERS.items():
        model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                 "fuse_unk": False, "byte_fallback": False}
        if ignore is not None:
            model["ignore_merges"] = ignore
        model["vocab"] = VOCAB
        model["merges"] = MERGES
        tj = {"version": "1.0", "truncation": None, "padding": None,
              "added_tokens": [{"id": len(VOCAB), "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                                "normalized": False, "special": True}],
              "normalizer": None, "pre_tokenizer": pre, "post_processor": None, "decoder": byte_level(False, True), "model": model}
        text = json.dumps(tj, ensure_ascii=False, indent=1)
        with open(os.path.join(here, name + ".json"), "w", encoding="utf-8") as f:
            f.write(text)
        tok = Tokenizer.from_str(text)
        for t in TEXTS:
            pieces = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str(t)]
            cases.append({"tokenizer": name, "text": t, "ids": tok.encode(t, add_special_tokens=False).ids, "pieces": pieces})
    with open(os.path.join(here, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers": tokenizers.__version__, "cases": cases}, f, ensure_ascii=False, indent=1)


write()
