#!/usr/bin/env python3
"""Independent check of Crucible's model: the same transformer written in plain PyTorch from the
Hugging Face-named weights that Crucible exported.

  torch_reference.py <dir>

reads <dir>/config.json (transformers' GPT2LMHeadModel, LlamaForCausalLM or GPTNeoXForCausalLM fields, and for
models only Crucible computes as stored the "crucible" fields: Post-LN / Mix-LN, LayerNorm Scaling, and the
embedding projections' own tensors),
<dir>/model.safetensors and <dir>/batch.safetensors (tokens, targets as float32), computes the
next-token probabilities, the mean cross-entropy and its gradient with respect to every weight,
and writes them to <dir>/torch_out.safetensors (probs, loss, grad.<name>). Needs only torch
(Debian's python3-torch); safetensors files are parsed here by hand.
"""
import json, math, struct, sys
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:end]), dtype=torch.float32).reshape(e["shape"])
        out[name] = t.clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def attention(q, k, v):  # (B, H, T, hs)
    T = q.shape[2]
    att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
    return att @ v


def layer_plan(c, n_layer):
    """Per layer: (where its norms sit: "pre", "post" or "output", scale of the norm outputs), from config.json's
    "crucible" fields (Mix-LN, OLMo 2's output norm, LayerNorm Scaling)."""
    ext = c.get("crucible", {})
    placement = ext.get("norm_placement", "output" if c["model_type"].removeprefix("crucible_") == "olmo2" else "pre")
    post = {"pre": 0, "output": 0, "post": n_layer, "mix": math.floor(ext.get("mix_ln_fraction", 0.25) * n_layer)}[placement]
    lns = ext.get("norm_scaling", "none") == "layer_index"
    return [("post" if l < post else "output" if placement == "output" else "pre", 1.0 / math.sqrt(l + 1) if lns else 1.0)
            for l in range(n_layer)]


def sublayer(x, norm, branch, placement, scale):
    """Pre-LN: x + branch(norm(x) * scale); Post-LN: norm(x + branch(x)); output norm: x + norm(branch(x))."""
    if placement == "post":
        return norm(x + branch(x))
    if placement == "output":
        return x + norm(branch(x))
    return x + branch(norm(x) * scale)


def gpt2(w, c, idx):
    B, T = idx.shape
    d, nh = c["n_embd"], c["n_head"]
    eps = c["layer_norm_epsilon"]
    x = embed_proj(w, w["transformer.wte.weight"][idx] * embed_scale(c) + w["transformer.wpe.weight"][:T])
    kind = c.get("crucible", {}).get("norm", "layernorm")  # an RMSNorm (full or single-scale gain), or a LayerNorm that learns nothing, instead

    def norm(h, name):
        if kind == "nonparametric_layernorm":
            return F.layer_norm(h, (d,), None, None, eps)
        if kind == "offset_rmsnorm":  # Gemma's 1 + w
            return rms_norm(h, 1.0 + w[name + ".weight"], eps)
        return rms_norm(h, w[name + ".weight"], eps) if kind != "layernorm" else F.layer_norm(h, (d,), w[name + ".weight"], w[name + ".bias"], eps)
    for l, (placement, scale) in enumerate(layer_plan(c, c["n_layer"])):
        p = f"transformer.h.{l}."

        def attn(h):
            qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # Conv1D: x @ W[in, out] + b
            q, k, v = (t.view(B, T, nh, d // nh).transpose(1, 2) for t in qkv.split(d, dim=2))
            if p + "attn.q_norm.weight" in w:  # Crucible's "qk_norm"
                q, k = qk_normed(q, k, w[p + "attn.q_norm.weight"], w[p + "attn.k_norm.weight"], eps)
            y = attention(q, k, v).transpose(1, 2).reshape(B, T, d)
            return y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]

        def mlp(h):
            h = F.gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], approximate="none" if c["activation_function"] == "gelu" else "tanh")
            return h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]

        x = sublayer(x, lambda h: norm(h, p + "ln_1"), attn, placement, scale)
        x = sublayer(x, lambda h: norm(h, p + "ln_2"), mlp, placement, scale)
    x = norm(x, "transformer.ln_f")
    head = w["lm_head.weight"] if "lm_head.weight" in w else w["transformer.wte.weight"]
    logits = head_proj(w, x) @ head.t()
    return logits + w["lm_head.bias"] if "lm_head.bias" in w else logits  # Crucible's head_bias


def embed_scale(c):
    """GemmaModel's normaliser, torch.tensor(hidden_size ** 0.5, dtype) in float32; Crucible's embedding_multiplier elsewhere."""
    if c["model_type"] == "gemma":
        return torch.tensor(c["hidden_size"] ** 0.5, dtype=torch.float32)
    return torch.tensor(c.get("crucible", {}).get("embedding_multiplier", 1.0), dtype=torch.float32)


def embed_proj(w, x):  # Crucible's "embedding_projection" (OSP's EmbProj): R1 after the embedding
    return x @ w["crucible.embed_proj.weight"].t() if "crucible.embed_proj.weight" in w else x


def head_proj(w, x):  # ... and R2 before the LM head
    return x @ w["crucible.head_proj.weight"].t() if "crucible.head_proj.weight" in w else x


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def qk_normed(q, k, wq, wk, eps):
    """QK-norm of q (B, heads, T, hs) and k (B, kv heads, T, hs): RMSNorm of each head with a gain of head size (Qwen3's),
    or of each token's whole query and key projections with a gain per dimension (OLMo 2's: q_norm(q_proj(x)))."""
    hs = q.shape[-1]
    if wq.numel() == hs:
        return rms_norm(q, wq, eps), rms_norm(k, wk, eps)

    def whole(t, wt):
        B, n, T, _ = t.shape
        return rms_norm(t.transpose(1, 2).reshape(B, T, n * hs), wt, eps).view(B, T, n, hs).transpose(1, 2)
    return whole(q, wq), whole(k, wk)


def rope_tables(theta, rot, T, scaling=None):
    """cos and sin (T, rot) of RoPE on rot dimensions of each head, transformers' layout (the two halves repeated)."""
    inv = 1.0 / (theta ** (torch.arange(0, rot, 2, dtype=torch.int64).float() / rot))
    if scaling:
        assert scaling["rope_type"] == "llama3"
        inv = llama3_scaled(inv, scaling)
    freqs = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def llama3_scaled(inv, s):
    """Llama 3.1's frequency scaling (rope_type llama3), from Meta's reference code's apply_scaling: long wavelengths
    divided by the factor, short ones kept, those between interpolated."""
    old, low, high, factor = s["original_max_position_embeddings"], s["low_freq_factor"], s["high_freq_factor"], s["factor"]
    wavelen = 2 * math.pi / inv
    scaled = torch.where(wavelen > old / low, inv / factor, inv)
    smooth = (old / wavelen - low) / (high - low)
    medium = (wavelen >= old / high) & (wavelen <= old / low)
    return torch.where(medium, (1 - smooth) * scaled / factor + smooth * scaled, scaled)


def llama(w, c, idx):
    B, T = idx.shape
    d, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hs = c.get("head_dim") or d // nh  # LlamaAttention's getattr(config, "head_dim", hidden_size // num_attention_heads)
    # the first OLMo's LayerNorm learns nothing and has its eps fixed (OlmoLayerNorm); Crucible's own models may have it too
    olmo = c["model_type"].removeprefix("crucible_") == "olmo"
    plain = olmo or c.get("crucible", {}).get("norm") == "nonparametric_layernorm"
    eps = 1e-5 if olmo else c["rms_norm_eps"]
    clip = c.get("clip_qkv") or c.get("crucible", {}).get("clip_qkv")

    # Gemma's RMSNorm multiplies by 1 + w (GemmaRMSNorm); Crucible's own models may have it too
    offset = c["model_type"] == "gemma" or c.get("crucible", {}).get("norm") == "offset_rmsnorm"

    def norm(h, name):
        if plain:
            return F.layer_norm(h, (d,), None, None, eps)
        return rms_norm(h, 1.0 + w[name + ".weight"] if offset else w[name + ".weight"], eps)

    cos, sin = rope_tables(c["rope_theta"], hs, T, c.get("rope_scaling"))
    x = embed_proj(w, w["model.embed_tokens.weight"][idx] * embed_scale(c))
    for l, (placement, scale) in enumerate(layer_plan(c, c["num_hidden_layers"])):
        p = f"model.layers.{l}."

        def linear(h, module):  # nn.Linear: x @ W[out, in]^T, plus the bias where the checkpoint has one (Qwen2's q, k, v; attention_bias, mlp_bias)
            y = h @ w[p + module + ".weight"].t()
            return y + w[p + module + ".bias"] if p + module + ".bias" in w else y

        def attn(h):
            q, k, v = linear(h, "self_attn.q_proj"), linear(h, "self_attn.k_proj"), linear(h, "self_attn.v_proj")
            if clip:  # OLMo's clip_qkv: q, k and v clamped before QK-norm and RoPE (OlmoAttention's clamp_)
                q, k, v = q.clamp(-clip, clip), k.clamp(-clip, clip), v.clamp(-clip, clip)
            q = q.view(B, T, nh, hs).transpose(1, 2)
            k = k.view(B, T, nkv, hs).transpose(1, 2)
            v = v.view(B, T, nkv, hs).transpose(1, 2)
            if p + "self_attn.q_norm.weight" in w:  # Qwen3's per-head or OLMo 2's whole-projection QK-norm, before RoPE
                q, k = qk_normed(q, k, w[p + "self_attn.q_norm.weight"], w[p + "self_attn.k_norm.weight"], eps)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k, v = k.repeat_interleave(nh // nkv, dim=1), v.repeat_interleave(nh // nkv, dim=1)
            y = attention(q, k, v).transpose(1, 2).reshape(B, T, nh * hs)
            return linear(y, "self_attn.o_proj")

        # LlamaMLP: ACT2FN[hidden_act] on the gate (silu: SwiGLU; gelu_pytorch_tanh: GeGLU); GemmaMLP (transformers 4): hidden_activation
        act_name = (c.get("hidden_activation") or "gelu_pytorch_tanh") if c["model_type"] == "gemma" else c["hidden_act"]
        act = {"silu": F.silu, "gelu_pytorch_tanh": lambda v: F.gelu(v, approximate="tanh")}[act_name]

        def mlp(h):
            g = act(linear(h, "mlp.gate_proj")) * linear(h, "mlp.up_proj")
            return linear(g, "mlp.down_proj")

        # OLMo 2 names its norms after where they sit: on the attention's output, on the feed-forward's
        attn_norm, mlp_norm = (("post_attention_layernorm", "post_feedforward_layernorm") if p + "post_feedforward_layernorm.weight" in w
                               else ("input_layernorm", "post_attention_layernorm"))
        x = sublayer(x, lambda h: norm(h, p + attn_norm), attn, placement, scale)
        x = sublayer(x, lambda h: norm(h, p + mlp_norm), mlp, placement, scale)
    x = norm(x, "model.norm")
    head = w["lm_head.weight"] if "lm_head.weight" in w else w["model.embed_tokens.weight"]
    logits = head_proj(w, x) @ head.t()
    return logits + w["lm_head.bias"] if "lm_head.bias" in w else logits  # Crucible's head_bias


def gpt_neox(w, c, idx):
    """transformers' GPTNeoXForCausalLM (Pythia): query_key_value grouped by head as [q_h, k_h, v_h], RoPE on the first
    int(head_size * rotary_pct) dimensions of each head, x + attn(ln1(x)) + mlp(ln2(x)) with use_parallel_residual."""
    B, T = idx.shape
    d, nh = c["hidden_size"], c["num_attention_heads"]
    hs, eps = d // nh, c["layer_norm_eps"]
    rot = int(hs * c["rotary_pct"])
    cos, sin = rope_tables(c["rotary_emb_base"], rot, T, c.get("rope_scaling"))
    approximate = "none" if c["hidden_act"] == "gelu" else "tanh"
    x = embed_proj(w, w["gpt_neox.embed_in.weight"][idx] * embed_scale(c))

    plain = c.get("crucible", {}).get("norm") == "nonparametric_layernorm"  # a LayerNorm that learns nothing

    def norm(h, name):
        return F.layer_norm(h, (d,), None, None, eps) if plain else F.layer_norm(h, (d,), w[name + ".weight"], w[name + ".bias"], eps)
    for l, (placement, scale) in enumerate(layer_plan(c, c["num_hidden_layers"])):
        assert placement != "post"
        p = f"gpt_neox.layers.{l}."

        def attn(h):
            qkv = (h @ w[p + "attention.query_key_value.weight"].t() + w[p + "attention.query_key_value.bias"]).view(B, T, nh, 3 * hs)
            q, k, v = (qkv[..., i * hs:(i + 1) * hs].permute(0, 2, 1, 3) for i in range(3))
            if p + "attention.q_norm.weight" in w:  # Crucible's qk_norm (crucible_gpt_neox), before RoPE
                q, k = qk_normed(q, k, w[p + "attention.q_norm.weight"], w[p + "attention.k_norm.weight"], eps)
            q = torch.cat((q[..., :rot] * cos + rotate_half(q[..., :rot]) * sin, q[..., rot:]), dim=-1)
            k = torch.cat((k[..., :rot] * cos + rotate_half(k[..., :rot]) * sin, k[..., rot:]), dim=-1)
            y = attention(q, k, v).transpose(1, 2).reshape(B, T, d)
            return y @ w[p + "attention.dense.weight"].t() + w[p + "attention.dense.bias"]

        def mlp(h):
            h = F.gelu(h @ w[p + "mlp.dense_h_to_4h.weight"].t() + w[p + "mlp.dense_h_to_4h.bias"], approximate=approximate)
            return h @ w[p + "mlp.dense_4h_to_h.weight"].t() + w[p + "mlp.dense_4h_to_h.bias"]

        if placement == "output":
            x = x + norm(attn(x), p + "input_layernorm")
            x = x + norm(mlp(x), p + "post_attention_layernorm")
            continue
        ln1 = norm(x, p + "input_layernorm") * scale
        shared = c.get("crucible", {}).get("shared_norm")  # one norm for both branches (Phi's block, Crucible's own here)
        if c["use_parallel_residual"]:
            x = x + attn(ln1) + mlp(ln1 if shared else norm(x, p + "post_attention_layernorm") * scale)
        else:
            x = x + attn(ln1)
            x = x + mlp(norm(x, p + "post_attention_layernorm") * scale)
    x = norm(x, "gpt_neox.final_layer_norm")
    head = w["embed_out.weight"] if "embed_out.weight" in w else w["gpt_neox.embed_in.weight"]
    logits = head_proj(w, x) @ head.t()
    return logits + w["embed_out.bias"] if "embed_out.bias" in w else logits


def phi(w, c, idx):
    """transformers' PhiForCausalLM (Phi-1, 1.5): q, k and v apart, RoPE on the first int(head_size * partial_rotary_factor)
    dimensions of each head, x + attn(ln(x)) + mlp(ln(x)) with one LayerNorm, GELU's tanh form, a bias on the head."""
    B, T = idx.shape
    d, nh = c["hidden_size"], c["num_attention_heads"]
    hs, eps = d // nh, c["layer_norm_eps"]
    rot = int(hs * c["partial_rotary_factor"])
    cos, sin = rope_tables(c["rope_theta"], rot, T)
    assert not c.get("crucible"), "Crucible's own options on Phi's blocks: not computed here"
    approximate = "none" if c["hidden_act"] == "gelu" else "tanh"  # PhiMLP: ACT2FN[hidden_act]
    x = w["model.embed_tokens.weight"][idx]

    def linear(h, name):
        return h @ w[name + ".weight"].t() + w[name + ".bias"]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = F.layer_norm(x, (d,), w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
        q, k, v = (linear(h, p + "self_attn." + n).view(B, T, nh, hs).transpose(1, 2) for n in ("q_proj", "k_proj", "v_proj"))
        q = torch.cat((q[..., :rot] * cos + rotate_half(q[..., :rot]) * sin, q[..., rot:]), dim=-1)
        k = torch.cat((k[..., :rot] * cos + rotate_half(k[..., :rot]) * sin, k[..., rot:]), dim=-1)
        a = linear(attention(q, k, v).transpose(1, 2).reshape(B, T, d), p + "self_attn.dense")
        m = linear(F.gelu(linear(h, p + "mlp.fc1"), approximate=approximate), p + "mlp.fc2")
        x = x + a + m
    x = F.layer_norm(x, (d,), w["model.final_layernorm.weight"], w["model.final_layernorm.bias"], eps)
    return linear(x, "lm_head") if "lm_head.weight" in w else x @ w["model.embed_tokens.weight"].t() + w["lm_head.bias"]


def main():
    d = sys.argv[1]
    cfg = json.load(open(f"{d}/config.json"))
    w = read_safetensors(f"{d}/model.safetensors")
    for t in w.values():
        t.requires_grad_(True)
    batch = read_safetensors(f"{d}/batch.safetensors")
    idx, tgt = batch["tokens"].long(), batch["targets"].long()
    base = cfg["model_type"].removeprefix("crucible_")  # Crucible's own model types: the base fields plus "crucible"
    logits = {"llama": llama, "qwen2": llama, "qwen3": llama, "olmo": llama, "olmo2": llama, "gemma": llama, "gpt_neox": gpt_neox, "phi": phi, "gpt2": gpt2}[base](w, cfg, idx)
    cap = cfg.get("crucible", {}).get("logit_softcap", 0)
    if cap:  # Crucible's logit_softcap (Gemma 2's final_logit_softcapping)
        logits = cap * torch.tanh(logits / cap)
    flat = logits.view(-1, logits.shape[-1])
    loss = F.cross_entropy(flat, tgt.view(-1))
    objective = loss
    if "z_loss" in batch:  # PaLM's z-loss: weight * log^2 Z per token, in the gradient; "loss" stays the cross-entropy
        objective = loss + batch["z_loss"].item() * torch.logsumexp(flat, dim=-1).pow(2).mean()
    objective.backward()
    out = {"probs": logits.detach().softmax(-1).view(-1, logits.shape[-1]), "loss": loss.detach().view(1)}
    for name, t in w.items():
        out["grad." + name] = t.grad
    write_safetensors(f"{d}/torch_out.safetensors", out)
    print(f"torch {torch.__version__}: loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
