#!/usr/bin/env python3
"""Independent check of Crucible's optimizers: each update written in plain PyTorch from its paper's
pseudo-code (and the reference code's choices the seed spec records), run on the gradients Crucible used.

  torch_optimizers.py <dir>

reads <dir>/cases.json (a list of {name, algorithm, settings, matrices: [[rows, cols], ...], steps, lr})
and <dir>/in.safetensors (<name>.<k>.w: the k-th matrix before the first step, <name>.<k>.g<t>: its
gradient at step t, matrices in torch.nn.Linear's [out, in] orientation), runs the steps, and writes
the matrices after them to <dir>/out.safetensors (<name>.<k>.w). Needs only torch.
"""
import json, math, sys
import torch

sys.path.insert(0, sys.argv[1])
from torch_reference import read_safetensors, write_safetensors

torch.set_default_dtype(torch.float32)


def adamw(w, grads, s, lr):
    m, v = torch.zeros_like(w), torch.zeros_like(w)
    for t, g in enumerate(grads, 1):
        m = s["beta1"] * m + (1 - s["beta1"]) * g
        v = s["beta2"] * v + (1 - s["beta2"]) * g * g
        mhat, vhat = m / (1 - s["beta1"] ** t), v / (1 - s["beta2"] ** t)
        w = w * (1 - lr * s["weight_decay"]) - lr * mhat / (vhat.sqrt() + s["eps"])
    return w


def spam(w, grads, s, lr):
    b1, b2, theta, dT, N, A = s["beta1"], s["beta2"], s["theta"], s["reset_interval"], s["reset_warmup"], s["clip_delay"]
    m, v = torch.zeros_like(w), torch.zeros_like(w)
    for t, g in enumerate(grads, 1):
        if t % dT == 0:
            m, v = torch.zeros_like(w), torch.zeros_like(w)
        if theta > 0 and t >= A and t % dT >= A:
            spike = g * g > theta * v
            g = torch.where(spike, g.sign() * (theta * v).sqrt(), g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        j = N + 1 if t < dT else t % dT
        scale = 1 - 0.99 * (1 + math.cos(math.pi * j / (N + 1))) / 2 if j < N else 1.0
        w = w - lr * scale * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (v.sqrt() + s["eps"])
        w = w - lr * s["weight_decay"] * w
    return w


def galore(w, grads, s, lr):
    rows, cols = w.shape
    right, r = rows >= cols, s["rank"]
    m = v = p = None
    for t, g in enumerate(grads, 1):
        if (t - 1) % s["update_gap"] == 0:
            u, _, vh = torch.linalg.svd(g.double(), full_matrices=False)
            # GaLore's moments carry over a refresh in whatever basis the SVD returns, so the update depends on
            # its signs: use Crucible's convention (each right vector's largest entry positive, its left vector with it)
            flip = torch.sign(vh.gather(1, vh.abs().argmax(dim=1, keepdim=True))).squeeze(1)
            u, vh = u * flip, vh * flip[:, None]
            p = (vh[:r, :] if right else u[:, :r]).float()
        low = g @ p.T if right else p.T @ g
        if m is None:
            m, v = torch.zeros_like(low), torch.zeros_like(low)
        m = s["beta1"] * m + (1 - s["beta1"]) * low
        v = s["beta2"] * v + (1 - s["beta2"]) * low * low
        n = m / (v.sqrt() + s["eps"])
        dw = s["scale"] * (n @ p if right else p @ n)
        w = w - lr * math.sqrt(1 - s["beta2"] ** t) / (1 - s["beta1"] ** t) * dw
        w = w - lr * s["weight_decay"] * w
    return w


def ns5(g, steps):
    a, b, c = 3.4445, -4.7750, 2.0315
    x = g.T if g.shape[0] > g.shape[1] else g
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        A = x @ x.T
        x = a * x + (b * A + c * A @ A) @ x
    return x.T if g.shape[0] > g.shape[1] else x


def muon(w, grads, s, lr):
    beta, keller = s["momentum"], s["shape_scale"] == "keller"
    rows, cols = w.shape
    scale = max(1, rows / cols) ** 0.5 if keller else 0.2 * math.sqrt(max(rows, cols))
    m = torch.zeros_like(w)
    for g in grads:
        if keller:  # muon.py: momentum.lerp_(grad, 1 - beta); update = grad.lerp_(momentum, beta)
            m = m.lerp(g, 1 - beta)
            u = g.lerp(m, beta)
        else:  # Moonlight: buf = mu * buf + g; g + mu * buf
            m = beta * m + g
            u = g + beta * m
        w = w * (1 - lr * s["weight_decay"]) - lr * scale * ns5(u, s["ns_steps"])
    return w


def swan(w, grads, s, lr):
    for g in grads:
        gn = (g - g.mean(dim=1, keepdim=True)) / g.std(dim=1, unbiased=False, keepdim=True)
        u, sv, vh = torch.linalg.svd(gn.double(), full_matrices=False)
        keep = sv > 1e-4 * sv.max()  # a tall G̃ has centred rows, hence a null direction: the polar factor on its range
        o = (u[:, keep] @ vh[keep, :]).float()
        w = w * (1 - lr * s["weight_decay"]) - lr * o
    return w


def sinkgd(w, grads, s, lr):
    rows, cols = w.shape
    for g in grads:
        x = g
        for _ in range(s["iterations"]):
            x = x / x.norm(dim=1, keepdim=True) * math.sqrt(cols)
            x = x / x.norm(dim=0, keepdim=True) * math.sqrt(rows)
        w = w * (1 - lr * s["weight_decay"]) - lr * x
    return w


def main():
    d = sys.argv[1]
    cases = json.load(open(f"{d}/cases.json"))
    t_in = read_safetensors(f"{d}/in.safetensors")
    out = {}
    for case in cases:
        step = globals()[case["algorithm"]]
        for k in range(len(case["matrices"])):
            key = f"{case['name']}.{k}"
            grads = [t_in[f"{key}.g{t}"] for t in range(1, case["steps"] + 1)]
            out[f"{key}.w"] = step(t_in[f"{key}.w"], grads, case["settings"], case["lr"])
    write_safetensors(f"{d}/out.safetensors", out)
    print(f"{len(out)} matrices updated")


if __name__ == "__main__":
    main()
