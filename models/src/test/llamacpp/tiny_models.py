#!/usr/bin/env python3
"""Writes tiny random-weight decoders as GGUF files with llama.cpp's own gguf-py.

    PYTHONPATH=<llama.cpp>/gguf-py python3 tiny_models.py OUTDIR [name ...]

One file per case and weight type: OUTDIR/<case>-<type>.gguf, type in f32, f16, q8_0, q4_0 (norms,
biases and rope factors stay f32, as llama.cpp's converter keeps them). Every file carries a tiny
byte-level BPE vocabulary (256 byte symbols, 2 merges, <|endoftext|>) so that llama.cpp and attn4j
can both load it; the tests feed token ids directly.
"""
import sys
import numpy as np
import gguf

N_CTX = 64


def byte_symbols():
    # GPT-2's printable stand-ins for the 256 byte values.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


# name -> (arch, dim, layers, heads, kv_heads, head_dim, ffn, tied, extras)
CASES = {
    "llama": ("llama", 64, 2, 4, 2, 16, 96, False, {}),
    "llama3": ("llama", 64, 2, 4, 1, 16, 96, False, {"rope_freqs": True, "theta": 500000.0}),
    "smollm2": ("llama", 64, 2, 4, 4, 16, 96, True, {}),
    "qwen2": ("qwen2", 64, 2, 4, 2, 16, 96, False, {"theta": 1000000.0}),
    "qwen3": ("qwen3", 64, 2, 4, 2, 32, 96, True, {"theta": 1000000.0}),
    "gpt2": ("gpt2", 64, 2, 4, 4, 16, 256, False, {}),
    # DeepSeek-V2 with dense FFN layers only (leading_dense_block_count = block_count, no expert tensors);
    # mla = (q_lora_rank, kv_lora_rank, qk_nope, qk_rope, v_head); q_lora_rank 0 is V2-Lite's plain q. F32 only.
    "deepseek2": ("deepseek2", 64, 2, 4, 1, 24, 96, False, {"mla": (0, 32, 16, 8, 12), "f32_only": True}),
    "deepseek2_qlora": ("deepseek2", 64, 2, 4, 1, 24, 96, False, {"mla": (24, 32, 16, 8, 12), "f32_only": True}),
    # Benchmark shapes (random weights; not written unless named):
    "smollm2_360m": ("llama", 960, 32, 15, 5, 64, 2560, True, {"theta": 100000.0, "vocab": 49152, "ctx": 8192, "bench": True}),
    "llama32_1b": ("llama", 2048, 16, 32, 8, 64, 8192, True, {"theta": 500000.0, "vocab": 128256, "ctx": 8192, "bench": True}),
}

TYPES = {
    "f32": gguf.GGMLQuantizationType.F32,
    "f16": gguf.GGMLQuantizationType.F16,
    "q8_0": gguf.GGMLQuantizationType.Q8_0,
    "q4_0": gguf.GGMLQuantizationType.Q4_0,
}


def llama3_factors(n_rot, theta, factor=8.0, low=1.0, high=4.0, original=16):
    out = []
    for i in range(n_rot // 2):
        freq = theta ** (-2.0 * i / n_rot)
        wavelen = 2 * np.pi / freq
        if wavelen < original / high:
            out.append(1.0)
        elif wavelen > original / low:
            out.append(factor)
        else:
            smooth = (original / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out, dtype=np.float32)


def write(path, case, tname, seed):
    arch, dim, layers, heads, kv_heads, head_dim, ffn, tied, extras = CASES[case]
    qtype = TYPES[tname]
    rng = np.random.default_rng(seed)
    tokens = byte_symbols() + ["Ġt", "he"]
    tokens += [f"<|filler_{i}|>" for i in range(len(tokens), extras.get("vocab", 259) - 1)] + ["<|endoftext|>"]
    types = [1] * (len(tokens) - 1) + [3]
    vocab = len(tokens)

    w = gguf.GGUFWriter(path, arch)
    n_ctx = extras.get("ctx", N_CTX)
    w.add_context_length(n_ctx)
    w.add_embedding_length(dim)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    if arch == "deepseek2":
        ql, kvl, nope, rope, vdim = extras["mla"]
        w.add_layer_norm_rms_eps(1e-6)
        w.add_rope_freq_base(extras.get("theta", 10000.0))
        w.add_rope_dimension_count(rope)
        w.add_leading_dense_block_count(layers)
        w.add_q_lora_rank(ql)
        w.add_kv_lora_rank(kvl)
        # As llama.cpp's converter: the cache view (latent + rope key) and the decompressed head sizes.
        w.add_key_length(kvl + rope)
        w.add_value_length(kvl)
        w.add_key_length_mla(nope + rope)
        w.add_value_length_mla(vdim)
        w.add_expert_feed_forward_length(ffn)
        w.add_expert_shared_count(0)
    elif arch == "gpt2":
        w.add_layer_norm_eps(1e-5)
    else:
        w.add_layer_norm_rms_eps(1e-6 if arch.startswith("qwen") else 1e-5)
        w.add_rope_freq_base(extras.get("theta", 10000.0))
        w.add_rope_dimension_count(head_dim)
    if head_dim * heads != dim and arch != "deepseek2":
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(["Ġ t", "h e"])
    w.add_eos_token_id(vocab - 1)
    w.add_bos_token_id(vocab - 1)
    w.add_add_bos_token(False)

    def mat(out_dim, in_dim):
        s = np.sqrt(3.0 / in_dim)
        return (rng.random((out_dim, in_dim), dtype=np.float32) * np.float32(2 * s) - np.float32(s))

    def vec(n, s):
        return (rng.standard_normal(n) * s).astype(np.float32)

    def norm(n):
        return (1 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    def add(name, a):
        # 2-D weights take the file's type; vectors stay f32.
        if a.ndim == 2 and qtype != gguf.GGMLQuantizationType.F32:
            if qtype == gguf.GGMLQuantizationType.F16:
                w.add_tensor(name, a.astype(np.float16))
            else:
                q = gguf.quants.quantize(a, qtype)
                w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)
        else:
            w.add_tensor(name, a)

    q_dim, kv_dim = heads * head_dim, kv_heads * head_dim
    add("token_embd.weight", rng.standard_normal((vocab, dim), dtype=np.float32))
    if arch == "gpt2":
        add("position_embd.weight", (0.3 * rng.standard_normal((n_ctx, dim))).astype(np.float32))
    if extras.get("rope_freqs"):
        add("rope_freqs.weight", llama3_factors(head_dim, extras["theta"]))
    for i in range(layers):
        p = f"blk.{i}."
        add(p + "attn_norm.weight", norm(dim))
        if arch == "deepseek2":
            ql, kvl, nope, rope, vdim = extras["mla"]
            if ql > 0:
                add(p + "attn_q_a.weight", mat(ql, dim))
                add(p + "attn_q_a_norm.weight", norm(ql))
                add(p + "attn_q_b.weight", mat(heads * (nope + rope), ql))
            else:
                add(p + "attn_q.weight", mat(heads * (nope + rope), dim))
            add(p + "attn_kv_a_mqa.weight", mat(kvl + rope, dim))
            add(p + "attn_kv_a_norm.weight", norm(kvl))
            # kv_b_proj [heads * (nope + v), kvl], split as the converter does: k_b [heads, kvl, nope], v_b [heads, v, kvl].
            kv_b = mat(heads * (nope + vdim), kvl).reshape(heads, nope + vdim, kvl)
            add(p + "attn_k_b.weight", np.ascontiguousarray(kv_b[:, :nope, :].transpose(0, 2, 1)))
            add(p + "attn_v_b.weight", np.ascontiguousarray(kv_b[:, nope:, :]))
            add(p + "attn_output.weight", mat(dim, heads * vdim))
            add(p + "ffn_norm.weight", norm(dim))
            add(p + "ffn_gate.weight", mat(ffn, dim))
            add(p + "ffn_up.weight", mat(ffn, dim))
            add(p + "ffn_down.weight", mat(dim, ffn))
            continue
        if arch == "gpt2":
            add(p + "attn_norm.bias", vec(dim, 0.1))
            add(p + "attn_qkv.weight", mat(q_dim + 2 * kv_dim, dim))
            add(p + "attn_qkv.bias", vec(q_dim + 2 * kv_dim, 0.2))
        else:
            add(p + "attn_q.weight", mat(q_dim, dim))
            add(p + "attn_k.weight", mat(kv_dim, dim))
            add(p + "attn_v.weight", mat(kv_dim, dim))
            if arch == "qwen2":
                add(p + "attn_q.bias", vec(q_dim, 0.2))
                add(p + "attn_k.bias", vec(kv_dim, 0.2))
                add(p + "attn_v.bias", vec(kv_dim, 0.2))
            if arch == "qwen3":
                add(p + "attn_q_norm.weight", norm(head_dim))
                add(p + "attn_k_norm.weight", norm(head_dim))
        add(p + "attn_output.weight", mat(dim, q_dim))
        if arch == "gpt2":
            add(p + "attn_output.bias", vec(dim, 0.1))
        add(p + "ffn_norm.weight", norm(dim))
        if arch == "gpt2":
            add(p + "ffn_norm.bias", vec(dim, 0.1))
            add(p + "ffn_up.weight", mat(ffn, dim))
            add(p + "ffn_up.bias", vec(ffn, 0.1))
            add(p + "ffn_down.weight", mat(dim, ffn))
            add(p + "ffn_down.bias", vec(dim, 0.1))
        else:
            add(p + "ffn_gate.weight", mat(ffn, dim))
            add(p + "ffn_up.weight", mat(ffn, dim))
            add(p + "ffn_down.weight", mat(dim, ffn))
    add("output_norm.weight", norm(dim))
    if arch == "gpt2":
        add("output_norm.bias", vec(dim, 0.1))
    if not tied:
        add("output.weight", mat(vocab, dim))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or [f"{c}-{t}" for c in CASES for t in TYPES
                             if not CASES[c][8].get("bench") and (t == "f32" or not CASES[c][8].get("f32_only"))]
    for seed, name in enumerate(names):
        case, tname = name.rsplit("-", 1)
        write(f"{out}/{name}.gguf", case, tname, 1000 + seed)
        print(f"{out}/{name}.gguf")


if __name__ == "__main__":
    main()
