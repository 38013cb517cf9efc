"""Writes the PyTorch checkpoint fixtures of this folder with torch.save (as transformers' save_pretrained wrote
pytorch_model.bin before safetensors), each beside a model.safetensors of the same values written here by hand, so
PyTorchArchiveTest can hold what Crucible reads from the pickle to what it reads from safetensors:

gpt2/     a 1-layer GPT-2: float32, lm_head.weight sharing wte's storage (tied, as a state_dict holds it), c_attn's
          weight a transposed view (strides not row-major), ln_1's weight and bias views into one storage (offsets),
          the causal-mask buffer, the state_dict's _metadata;
llama/    a 1-layer Llama sharded in two files with pytorch_model.bin.index.json: bfloat16, one float16 tensor,
          nn.Parameter objects (_rebuild_parameter), the rotary inv_freq buffer older files carry;
evil.bin  a pickle that would call os.system on load (refused: only the globals a state dict needs);
legacy.bin torch.save's format before 1.6 (not a zip archive; refused by name);
shapes.bin pickle protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL), a 0-d, an empty and an expanded (stride 0)
          tensor, a size of 70,000 (BININT), a float16 transposed view, a bfloat16 slice, enough tensors for LONG_BINPUT, a
          complex buffer; shapes-zip64.bin the same in protocol 2 (LONG_BINPUT) with zip64 records and torch 2's byteorder
          record, big-endian.bin with byteorder "big";
flat.bin  two tensors as views of one flat storage (as DeepSpeed's zero_to_fp32 saves them);
v3.bin, from-type.bin, cycle.bin, overflow.bin: pickles built by hand as torch 2.1+ writes float8 tensors
          (_rebuild_tensor_v3, UntypedStorage), a tensor through _rebuild_from_type_v2, and two that must be refused: a list
          that holds itself passed to _rebuild_tensor_v2, strides and storage sizes that overflow 64 bits.

Run with torch installed (Debian's python3-torch): /usr/bin/python3 make_fixtures.py"""
import collections, json, os, struct, zipfile
import torch

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.bool: "BOOL", torch.int64: "I64"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": DT[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def gpt2():
    d, v, p = 8, 20, 16
    sd = collections.OrderedDict()
    wte = torch.randn(v, d)
    sd["transformer.wte.weight"] = wte
    sd["transformer.wpe.weight"] = torch.randn(p, d)
    ln1 = torch.randn(2 * d)
    sd["transformer.h.0.ln_1.weight"], sd["transformer.h.0.ln_1.bias"] = ln1[:d], ln1[d:]
    sd["transformer.h.0.attn.bias"] = torch.tril(torch.ones(p, p, dtype=torch.bool)).view(1, 1, p, p)
    sd["transformer.h.0.attn.c_attn.weight"] = torch.randn(3 * d, d).t()  # [d, 3d] with strides (1, d)
    sd["transformer.h.0.attn.c_attn.bias"] = torch.randn(3 * d)
    sd["transformer.h.0.attn.c_proj.weight"] = torch.randn(d, d)
    sd["transformer.h.0.attn.c_proj.bias"] = torch.randn(d)
    sd["transformer.h.0.ln_2.weight"], sd["transformer.h.0.ln_2.bias"] = torch.randn(d), torch.randn(d)
    sd["transformer.h.0.mlp.c_fc.weight"], sd["transformer.h.0.mlp.c_fc.bias"] = torch.randn(d, 4 * d), torch.randn(4 * d)
    sd["transformer.h.0.mlp.c_proj.weight"], sd["transformer.h.0.mlp.c_proj.bias"] = torch.randn(4 * d, d), torch.randn(d)
    sd["transformer.ln_f.weight"], sd["transformer.ln_f.bias"] = torch.randn(d), torch.randn(d)
    sd["lm_head.weight"] = wte  # tied: the same storage, as GPT2LMHeadModel's state_dict holds it
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("transformer", {"version": 1})])
    out = os.path.join(here, "gpt2")
    os.makedirs(out, exist_ok=True)
    torch.save(sd, os.path.join(out, "pytorch_model.bin"))
    write_safetensors(os.path.join(out, "model.safetensors"), {k: t for k, t in sd.items() if k != "lm_head.weight"})
    json.dump({"model_type": "gpt2", "vocab_size": v, "n_positions": p, "n_embd": d, "n_layer": 1, "n_head": 2,
               "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True},
              open(os.path.join(out, "config.json"), "w"), indent=1)


def llama():
    d, v, ff = 8, 20, 16
    sd = collections.OrderedDict()
    shapes = {"model.embed_tokens.weight": (v, d), "model.layers.0.input_layernorm.weight": (d,),
              "model.layers.0.self_attn.q_proj.weight": (d, d), "model.layers.0.self_attn.k_proj.weight": (d // 2, d),
              "model.layers.0.self_attn.v_proj.weight": (d // 2, d), "model.layers.0.self_attn.o_proj.weight": (d, d),
              "model.layers.0.post_attention_layernorm.weight": (d,), "model.layers.0.mlp.gate_proj.weight": (ff, d),
              "model.layers.0.mlp.up_proj.weight": (ff, d), "model.layers.0.mlp.down_proj.weight": (d, ff),
              "model.norm.weight": (d,), "lm_head.weight": (v, d)}
    for name, shape in shapes.items():
        dtype = torch.float16 if name.endswith("o_proj.weight") else torch.bfloat16
        sd[name] = torch.nn.Parameter(torch.randn(*shape).to(dtype), requires_grad=False)
    inv_freq = 1.0 / (10000 ** (torch.arange(0, 4, 2).float() / 4))
    out = os.path.join(here, "llama")
    os.makedirs(out, exist_ok=True)
    names = list(sd)
    shards = [names[:6], names[6:]]
    index = {"metadata": {"total_size": 0}, "weight_map": {}}
    for i, part in enumerate(shards):
        file = "pytorch_model-%05d-of-%05d.bin" % (i + 1, len(shards))
        piece = collections.OrderedDict((k, sd[k]) for k in part)
        if i == 0:
            piece["model.layers.0.self_attn.rotary_emb.inv_freq"] = inv_freq
        torch.save(piece, os.path.join(out, file))
        for k in piece:
            index["weight_map"][k] = file
    json.dump(index, open(os.path.join(out, "pytorch_model.bin.index.json"), "w"), indent=1)
    write_safetensors(os.path.join(out, "model.safetensors"), {k: t.detach() for k, t in sd.items()})
    json.dump({"model_type": "llama", "vocab_size": v, "max_position_embeddings": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
               "num_key_value_heads": 1, "hidden_size": d, "intermediate_size": ff, "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
               "hidden_act": "silu", "rope_theta": 10000.0}, open(os.path.join(out, "config.json"), "w"), indent=1)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this should never run",))


def shapes():
    sd = collections.OrderedDict()
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    sd["expanded"] = torch.arange(4.0).view(4, 1).expand(4, 3)
    sd["big"] = torch.tensor([2.5]).expand(70000)  # a size of 70,000 (BININT) over one stored element
    sd["half_t"] = torch.arange(6.0).view(2, 3).half().t()
    sd["bf16_slice"] = (torch.arange(10.0) * 1.5).bfloat16()[2:7]
    for i in range(60):
        sd["t%02d" % i] = torch.full((2,), float(i))
    sd["freqs_cis"] = torch.polar(torch.ones(2), torch.arange(2.0))
    torch.save(sd, os.path.join(here, "shapes.bin"), pickle_protocol=4)
    torch.save(sd, os.path.join(here, "shapes-zip64.bin"))  # protocol 2, whose memo indexes above 255 take LONG_BINPUT
    with zipfile.ZipFile(os.path.join(here, "shapes-zip64.bin")) as z:
        records = [(info.filename, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(os.path.join(here, "shapes-zip64.bin"), "w") as out:
        for name, data in records:
            with out.open(name, "w", force_zip64=True) as w:
                w.write(data)
        out.writestr("shapes-zip64/byteorder", b"little")
    with zipfile.ZipFile(os.path.join(here, "shapes.bin")) as z, zipfile.ZipFile(os.path.join(here, "big-endian.bin"), "w") as out:
        for info in z.infolist():
            out.writestr(info.filename.replace("shapes/", "big-endian/"), z.read(info))
        out.writestr("big-endian/byteorder", b"big")


def by_hand(name, pkl, records):
    """A torch.save-shaped zip around a pickle written here: <name>/data.pkl, <name>/data/<key>, <name>/version."""
    with zipfile.ZipFile(os.path.join(here, name + ".bin"), "w") as z:
        z.writestr(name + "/data.pkl", pkl)
        for k, v in records.items():
            z.writestr(name + "/data/" + k, v)
        z.writestr(name + "/version", b"3\n")


def G(mod, name): return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"
def S(s): b = s.encode(); return b"X" + struct.pack("<I", len(b)) + b
def L(v): return b"\x8a\x08" + struct.pack("<q", v)
def storage(kind, key, n): return b"(" + S("storage") + G("torch", kind) + S(key) + S("cpu") + L(n) + b"tQ"
def args(st, off, size, stride): return st + L(off) + b"(" + b"".join(map(L, size)) + b"t(" + b"".join(map(L, stride)) + b"t\x89" + G("collections", "OrderedDict") + b")R"
def v2(st, off, size, stride): return G("torch._utils", "_rebuild_tensor_v2") + b"(" + args(st, off, size, stride) + b"tR"
def state_dict(items): return b"\x80\x02}(" + b"".join(S(k) + t for k, t in items) + b"u."


gpt2()
llama()
shapes()
flat = torch.arange(10.0)
torch.save({"a.weight": flat.narrow(0, 0, 6).view(2, 3), "a.bias": flat.narrow(0, 6, 4)}, os.path.join(here, "flat.bin"))
f32 = struct.pack("<4f", 1, 2, 3, 4)
by_hand("v3", state_dict([("w", G("torch._utils", "_rebuild_tensor_v3") + b"(" + args(storage("UntypedStorage", "0", 4), 0, [4], [1])
                                 + G("torch", "float8_e4m3fn") + b"tR")]), {"0": b"\x38\x40\x44\x48"})
by_hand("from-type", state_dict([("w", G("torch._tensor", "_rebuild_from_type_v2") + b"(" + G("torch._utils", "_rebuild_tensor_v2")
                                        + G("torch", "Tensor") + b"(" + args(storage("FloatStorage", "0", 4), 0, [2, 2], [2, 1]) + b"t}tR")]), {"0": f32})
by_hand("cycle", b"\x80\x02}" + S("w") + G("torch._utils", "_rebuild_tensor_v2") + b"(]q\x00]q\x01ah\x01h\x00a0" + L(0) + b"))tRs.", {})
by_hand("overflow", state_dict([("w", v2(storage("FloatStorage", "0", 4), 0, [3], [2**62 + 1])),
                                ("v", v2(storage("FloatStorage", "1", 2**61 + 4), 2**61, [4], [1]))]), {"0": f32, "1": f32})
torch.save({"weight": torch.zeros(2), "payload": Evil()}, os.path.join(here, "evil.bin"))
torch.save({"weight": torch.zeros(2)}, os.path.join(here, "legacy.bin"), _use_new_zipfile_serialization=False)
