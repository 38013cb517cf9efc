#!/usr/bin/env python3
"""Hugging Face tokenizers, the peer of `crucible bench tokenizer --tokenizer FILE --dump DOCS.jsonl`: encodes the same
documents with the same tokenizer.json, checks that every document gets the ids Crucible wrote beside it, and times
encoding (no special tokens added, as Crucible's shards encode) on 1 thread (`encode` per document, RAYON_NUM_THREADS=1)
and on all threads (`encode_batch`); MB/s of UTF-8 input, best of the rounds.

    crucible bench tokenizer --tokenizer tokenizer.json --dump /tmp/docs.jsonl --json
    python3 bench/hf_tokenizers.py tokenizer.json /tmp/docs.jsonl [rounds]

Needs the tokenizers package (pip install tokenizers). The thread count of encode_batch is RAYON_NUM_THREADS, all cores
when unset; the one-thread figure runs in a child process with it set to 1, as Rayon reads it once.
"""
import json, os, subprocess, sys, time


def load(path):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(path)
    tok.encode_special_tokens = True
    return tok


def timed(path, docs, batch, rounds):
    best = float("inf")
    for _ in range(rounds):
        tok = load(path)
        t0 = time.perf_counter()
        if batch:
            tok.encode_batch(docs, add_special_tokens=False)
        else:
            for d in docs:
                tok.encode(d, add_special_tokens=False)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    path, dump = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    from tokenizers import __version__
    tok = load(path)
    rows = [json.loads(line) for line in open(dump, encoding="utf-8")]
    docs = [r["text"] for r in rows]
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    if os.environ.get("HF_BENCH_CHILD"):
        print(json.dumps({"one_thread": mb / timed(path, docs, False, rounds)}))
        return
    differ = sum(1 for r, e in zip(rows, tok.encode_batch(docs, add_special_tokens=False)) if e.ids != r["ids"])
    print("%d documents, %.1f MB; tokenizers %s; documents whose ids differ from Crucible's: %d" % (len(docs), mb, __version__, differ))
    timed(path, docs, True, 1)  # warm-up
    child = subprocess.run([sys.executable, __file__, path, dump, str(rounds)], capture_output=True, text=True, check=True,
                           env=dict(os.environ, HF_BENCH_CHILD="1", RAYON_NUM_THREADS="1"))
    one = json.loads(child.stdout)["one_thread"]
    every = mb / timed(path, docs, True, rounds)
    print(" 1 thread(s): tokenizers %6.2f MB/s" % one)
    print("%2d thread(s): tokenizers %6.2f MB/s (encode_batch)" % (os.cpu_count(), every))
    print(json.dumps({"bench": "hf_tokenizers", "tokenizers": __version__, "mb": round(mb, 2), "differing_documents": differ,
                      "mb_s_1_thread": round(one, 2), "mb_s_all_threads": round(every, 2)}))


main()
