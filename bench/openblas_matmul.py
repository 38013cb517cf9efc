#!/usr/bin/env python3
"""Peer for `crucible bench matmul`: OpenBLAS sgemm (through Debian's numpy) on the same shapes,
the three training forms of every linear layer of a model preset, best of --reps runs.

  apt-get install -y python3-numpy libopenblas0-pthread
  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/openblas_matmul.py --model tiny

The last line printed is JSON (gflops over all shapes, as crucible's --json).
"""
import argparse, json, time
import numpy as np

PRESETS = {  # d, heads, kv heads, mlp in width, mlp hidden, vocab, default batch, default seq
    "tiny": (384, 6, 6, 1536, 1536, 8192, 8, 256),
    "tiny-llama": (384, 6, 6, 2048, 1024, 8192, 8, 256),
    "gpt2-small": (768, 12, 12, 3072, 3072, 50257, 4, 64),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tiny", choices=PRESETS)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--seq", type=int)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    d, nh, nkv, mlp_in, hidden, vocab, b, t = PRESETS[a.model]
    bt = (a.batch or b) * (a.seq or t)
    hs = d // nh
    layers = [("qkv", (nh + 2 * nkv) * hs, d), ("attn_out", d, d), ("mlp_in", mlp_in, d), ("mlp_out", d, hidden), ("lm_head", vocab, d)]
    rng = np.random.default_rng(0)
    total_flops = total_s = 0.0
    print(f"numpy {np.__version__}; {'shape':22s} {'M':>6s} {'N':>6s} {'K':>6s} {'ms':>9s} {'GFLOP/s':>8s}")
    for name, oc, ic in layers:
        x = rng.standard_normal((bt, ic), dtype=np.float32)
        w = rng.standard_normal((oc, ic), dtype=np.float32)
        dy = rng.standard_normal((bt, oc), dtype=np.float32)
        for form, fn, (m, n, k) in [("Y=X·Wᵀ", lambda: x @ w.T, (bt, oc, ic)),
                                    ("dX=dY·W", lambda: dy @ w, (bt, ic, oc)),
                                    ("dW=dYᵀ·X", lambda: dy.T @ x, (oc, ic, bt))]:
            fn()
            best = float("inf")
            for _ in range(a.reps):
                t0 = time.perf_counter()
                fn()
                best = min(best, time.perf_counter() - t0)
            flops = 2.0 * m * n * k
            total_flops += flops
            total_s += best
            print(f"{name + ' ' + form:22s} {m:6d} {n:6d} {k:6d} {best * 1e3:9.2f} {flops / best / 1e9:8.1f}")
    print(json.dumps({"peer": "openblas-numpy", "model": a.model, "gflops": round(total_flops / total_s / 1e9, 1)}))


if __name__ == "__main__":
    main()
