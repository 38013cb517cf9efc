"""Writes the SentencePiece-style BPE tokenizer.json files of this folder (characters as symbols, the 256
<0xXX> byte tokens for characters the vocabulary lacks, spaces as U+2581) and cases.json: the ids Hugging Face
tokenizers gives each (file, text), with and without special tokens matched, and the text tokenizer.decode
gives for those ids and for some other id lists. SentencePieceParityTest holds Crucible to them.

The vocabulary and merges are trained here by tokenizers' BpeTrainer on tiny Shakespeare (words cut at spaces,
as SentencePiece trains), then laid out as Llama 2's tokenizer.json lays out its own: <unk>, <s>, </s>, the
byte tokens, then the trained tokens. The variants are the layouts transformers' converters write: Llama 2's
legacy one (a Prepend and a Replace normalizer, no pre-tokenizer), the non-legacy one (Metaspace, prepend
"first", no split), Gemma's (a Replace normalizer only) and Metaspace's other schemes.

With LLM360's WikiText sample as a second argument, cases.json also holds the SHA-256 of the ids of that whole file
and of its lines encoded one by one (SentencePieceParityTest's real-data check, which runs given ../shared/data).

Run with the tokenizers package installed, from this folder:
python3 make_cases.py ../../../../../../shared/data/tinyshakespeare/input.txt ../../../../../../shared/data/llm360_wikitext/wikitext.txt"""
import hashlib, json, os, sys
import tokenizers
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

here = os.path.dirname(os.path.abspath(__file__))
META = "\u2581"


def train(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tok.train([corpus], trainers.BpeTrainer(vocab_size=700, show_progress=False))
    model = json.loads(tok.to_str())["model"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for t, _ in sorted(model["vocab"].items(), key=lambda e: e[1]):
        if t not in vocab:
            vocab[t] = len(vocab)
    return vocab, [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]


def special(content, i, normalized=False, special=True):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": normalized, "special": special}


def metaspace(scheme, split):
    return {"type": "Metaspace", "replacement": META, "prepend_scheme": scheme, "split": split}


REPLACE = {"type": "Replace", "pattern": {"String": " "}, "content": META}
PREPEND = {"type": "Prepend", "prepend": META}


def llama_decoder(strip):
    steps = [{"type": "Replace", "pattern": {"String": META}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]
    if strip:
        steps.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    return {"type": "Sequence", "decoders": steps}


# name: (normalizer, pre_tokenizer, decoder, model settings that differ from Llama 2's)
VARIANTS = {
    "sp-llama-legacy": ({"type": "Sequence", "normalizers": [PREPEND, REPLACE]}, None, llama_decoder(True), {}),
    "sp-llama": (None, metaspace("first", False), llama_decoder(True), {}),
    "sp-gemma": (REPLACE, None, llama_decoder(False), {}),
    # no byte fallback: a character the vocabulary lacks is the unknown token, consecutive ones fused
    "sp-metaspace-always": (None, metaspace("always", True), metaspace("always", True), {"byte_fallback": False}),
    # byte tokens missing for some lead bytes (so some characters are unknown), not fused
    "sp-metaspace-never": (None, metaspace("never", False), {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"},
                                                                                          metaspace("never", False)]},
                           {"fuse_unk": False, "drop": ["<0xE6>", "<0xF0>"]}),
}

TEXTS = ["hi", " hi", "Hello world", "First Citizen:\nBefore we proceed any further, hear me speak.", "  two  spaces ", "tab\there\n\nnewline",
         "caf\u00e9 na\u00efve \u65e5\u672c \U0001f642", "<s>hi</s> hi", "hi<s>", "hi <s> there", "a\u2581literal \u2581 meta", "", " ", "a b c",
         "1234567890 + 42 = x", "What's this? It's 'quoted', \"twice\"...", "<extra> and<extra>", "\u00c5ngstr\u00f6m"]
LONG = " ".join(TEXTS[3] + " " + TEXTS[15] for _ in range(12))  # one piece of ~1,300 characters where nothing pre-tokenizes


def digest(id_lists):
    """SHA-256 of the id lists, each as comma-separated decimals, the lists separated by newlines."""
    return hashlib.sha256("\n".join(",".join(map(str, ids)) for ids in id_lists).encode()).hexdigest()


def write(corpus, wikitext):
    vocab, merges = train(corpus)
    cases, decodes, real = [], [], []
    for name, (normalizer, pre, decoder, settings) in VARIANTS.items():
        v = {t: i for i, t in enumerate(t for t in vocab if t not in settings.get("drop", []))}  # numbered without holes
        added = [special("<unk>", 0), special("<s>", 1), special("</s>", 2), special("<extra>", len(v), normalized=True, special=False)]
        model = {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None, "end_of_word_suffix": None,
                 "fuse_unk": settings.get("fuse_unk", True), "byte_fallback": settings.get("byte_fallback", True), "ignore_merges": False, "vocab": v,
                 # tokenizers writes pairs since 0.20; Llama 2's file has "a b" strings: one variant keeps them
                 "merges": merges if name == "sp-llama-legacy" else [m.split(" ") for m in merges]}
        post = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
        tj = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
              "pre_tokenizer": pre, "post_processor": post, "decoder": decoder, "model": model}
        text = json.dumps(tj, ensure_ascii=False, indent=1)
        with open(os.path.join(here, name + ".json"), "w", encoding="utf-8") as f:
            f.write(text)
        tok = Tokenizer.from_str(text)
        for t in TEXTS + [LONG]:
            ids = tok.encode(t, add_special_tokens=False).ids
            case = {"tokenizer": name, "text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                    "with_special_tokens": tok.encode(t).ids}
            tok.encode_special_tokens = True  # special tokens as text, as Crucible encodes a corpus
            case["ids_specials_as_text"] = tok.encode(t, add_special_tokens=False).ids
            tok.encode_special_tokens = False
            cases.append(case)
        if wikitext:
            with open(wikitext, encoding="utf-8") as f:
                text = f.read()
            whole = tok.encode(text, add_special_tokens=False).ids
            lines = [tok.encode(line, add_special_tokens=False).ids for line in text.split("\n")]
            real.append({"tokenizer": name, "tokens": len(whole), "sha256": digest([whole]), "lines": len(lines), "lines_sha256": digest(lines)})
        # byte tokens that are not UTF-8 alone (a lead byte; a truncated sequence; one before a character token), and leading spaces
        b = lambda x: v["<0x%02X>" % x]
        for ids in [[b(0xC3)], [b(0xC3), b(0xA9)], [b(0xE2), b(0x82)], [b(0xE2), b(0x82), v["a"]], [b(0x41), b(0x20), b(0xC3), v["a"], b(0xA9)],
                    [v[META], v[META + "t"]],
                    [v[META + "t"], v[META], 1, v[META + "t"]], [1, v[META + "t"]]]:
            decodes.append({"tokenizer": name, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    with open(os.path.join(here, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers": tokenizers.__version__, "cases": cases, "decodes": decodes, "wikitext": real}, f, ensure_ascii=False, indent=1)


write(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
