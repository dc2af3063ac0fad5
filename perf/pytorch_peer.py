#!/usr/bin/python3
"""The model bench's PyTorch peer: the same model as the lab's, in plain PyTorch with a KV cache.

Started by //perf:model_bench as a subprocess, one per thread count:

    pytorch_peer.py --model=FILE --threads=T --cpus=0,1

It pins itself to --cpus and sets every thread pool to T (OpenMP, OpenBLAS, MKL: before torch is
imported; then torch.set_num_threads(T)), loads the model file (a GPT-2 file, which the bench
writes for the configurations it creates from their seed, or a llama2.c version-0 file), prints one
JSON line {"ready": ...} and answers one JSON command per line on stdin:

    {"cmd": "ids",  "test": "tg", "tokens": N}          the greedy ids of a tgN test
    {"cmd": "ids",  "test": "pp", "tokens": N}          the argmax after a prefill of N tokens
    {"cmd": "time", "test": "tg"|"pp", "tokens": N, "reps": R}   R timings of the test, in ns
    {"cmd": "quit"}

The tests are the bench's: tgN starts from the token min(1, V - 1) and feeds each greedy token
back, one position at a time, through the KV cache; ppN runs the ids (i * 97 + 13) % V, with the
first replaced as above, through one forward of N positions. Each timing is taken here around the
test alone (time.perf_counter_ns), so the pipe costs nothing. Runs with Debian's python3-torch.
"""
import json
import math
import struct
import sys
import time

import pytorch_setup

ARGS = pytorch_setup.start(__doc__.split("\n")[0], model_required=True)
import numpy as np  # noqa: E402 (after start(): the pools are sized before torch loads)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_grad_enabled(False)


class Weights:
    def __init__(self, data, offset):
        self.f = np.frombuffer(data, dtype="<f4", offset=offset)
        self.at = 0

    def take(self, *shape):
        n = math.prod(shape)
        t = torch.from_numpy(self.f[self.at:self.at + n].copy()).view(*shape)
        self.at += n
        return t

    def skip(self, n):
        self.at += n


class Gpt2:
    """GPT-2 as models/gpt2.h: pre-LayerNorm blocks, GELU (tanh), causal attention, untied head."""

    def __init__(self, data):
        _, _, V, T, d, L, H, _ = struct.unpack_from("<8i", data)
        self.V, self.T, self.d, self.H, self.hs = V, T, d, H, d // H
        w = Weights(data, 32)
        self.wte, self.wpe = w.take(V, d), w.take(T, d)
        self.layers = []
        for _ in range(L):
            self.layers.append(dict(
                ln1_w=w.take(d), ln1_b=w.take(d), attn_w=w.take(3 * d, d), attn_b=w.take(3 * d),
                proj_w=w.take(d, d), proj_b=w.take(d), ln2_w=w.take(d), ln2_b=w.take(d),
                fc_w=w.take(4 * d, d), fc_b=w.take(4 * d), fcproj_w=w.take(d, 4 * d),
                fcproj_b=w.take(d)))
        self.lnf_w, self.lnf_b, self.head = w.take(d), w.take(d), w.take(V, d)
        self.k = torch.zeros(L, H, T, self.hs)
        self.v = torch.zeros(L, H, T, self.hs)

    def forward(self, tokens, pos):
        n, d, H, hs = len(tokens), self.d, self.H, self.hs
        x = self.wte[tokens] + self.wpe[pos:pos + n]
        for l, w in enumerate(self.layers):
            h = F.layer_norm(x, (d,), w["ln1_w"], w["ln1_b"], 1e-5)
            q, k, v = F.linear(h, w["attn_w"], w["attn_b"]).split(d, dim=1)
            self.k[l, :, pos:pos + n] = k.view(n, H, hs).transpose(0, 1)
            self.v[l, :, pos:pos + n] = v.view(n, H, hs).transpose(0, 1)
            y = attend(q.view(n, H, hs).transpose(0, 1), self.k[l, :, :pos + n],
                       self.v[l, :, :pos + n], pos)
            x = x + F.linear(y.transpose(0, 1).reshape(n, d), w["proj_w"], w["proj_b"])
            h = F.layer_norm(x, (d,), w["ln2_w"], w["ln2_b"], 1e-5)
            h = F.gelu(F.linear(h, w["fc_w"], w["fc_b"]), approximate="tanh")
            x = x + F.linear(h, w["fcproj_w"], w["fcproj_b"])
        x = F.layer_norm(x[-1:], (d,), self.lnf_w, self.lnf_b, 1e-5)
        return F.linear(x, self.head)[0]


class Llama:
    """Llama as models/llama.h: RMSNorm, RoPE, grouped-query attention, SwiGLU."""

    def __init__(self, data):
        d, hidden, L, H, KVH, V, T = struct.unpack_from("<7i", data)
        shared = V > 0
        V = abs(V)
        self.d, self.H, self.KVH, self.hs, self.V, self.T = d, H, KVH, d // H, V, T
        hs, kv = d // H, KVH * (d // H)
        w = Weights(data, 28)
        self.emb = w.take(V, d)
        rms_att, wq, wk = w.take(L, d), w.take(L, d, d), w.take(L, kv, d)
        wv, wo, rms_ffn = w.take(L, kv, d), w.take(L, d, d), w.take(L, d)
        w1, w2, w3 = w.take(L, hidden, d), w.take(L, d, hidden), w.take(L, hidden, d)
        self.rms_final = w.take(d)
        w.skip(T * hs)  # the file's rotary tables: computed below instead
        self.wcls = self.emb if shared else w.take(V, d)
        self.layers = [dict(rms_att=rms_att[l], wq=wq[l], wk=wk[l], wv=wv[l], wo=wo[l],
                            rms_ffn=rms_ffn[l], w1=w1[l], w2=w2[l], w3=w3[l]) for l in range(L)]
        freq = 1.0 / (10000.0 ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs))
        angle = torch.arange(T, dtype=torch.float64)[:, None] * freq[None, :]
        self.cos, self.sin = angle.cos().float(), angle.sin().float()  # (T, hs / 2)
        self.k = torch.zeros(L, KVH, T, hs)
        self.v = torch.zeros(L, KVH, T, hs)

    def rope(self, x, pos, n):  # x (heads, n, hs): pairs (2i, 2i + 1) rotated
        c, s = self.cos[pos:pos + n], self.sin[pos:pos + n]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = torch.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    def forward(self, tokens, pos):
        n, d, H, KVH, hs = len(tokens), self.d, self.H, self.KVH, self.hs
        x = self.emb[tokens]
        for l, w in enumerate(self.layers):
            h = rmsnorm(x, w["rms_att"])
            q = self.rope(F.linear(h, w["wq"]).view(n, H, hs).transpose(0, 1), pos, n)
            k = self.rope(F.linear(h, w["wk"]).view(n, KVH, hs).transpose(0, 1), pos, n)
            self.k[l, :, pos:pos + n] = k
            self.v[l, :, pos:pos + n] = F.linear(h, w["wv"]).view(n, KVH, hs).transpose(0, 1)
            group = H // KVH
            keys = self.k[l, :, :pos + n].repeat_interleave(group, dim=0)
            values = self.v[l, :, :pos + n].repeat_interleave(group, dim=0)
            y = attend(q, keys, values, pos)
            x = x + F.linear(y.transpose(0, 1).reshape(n, d), w["wo"])
            h = rmsnorm(x, w["rms_ffn"])
            x = x + F.linear(F.silu(F.linear(h, w["w1"])) * F.linear(h, w["w3"]), w["w2"])
        return F.linear(rmsnorm(x[-1:], self.rms_final), self.wcls)[0]


def rmsnorm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


def attend(q, k, v, pos):
    """q (heads, n, hs) at positions pos.., k and v (heads, pos + n, hs): causal attention."""
    n, total = q.shape[1], k.shape[1]
    scores = (q @ k.transpose(1, 2)) / math.sqrt(q.shape[2])
    if n > 1:
        mask = torch.arange(total)[None, :] > (pos + torch.arange(n))[:, None]
        scores = scores.masked_fill(mask, float("-inf"))
    return scores.softmax(-1) @ v


def first_token(vocab):
    return min(1, vocab - 1)


def run_tg(model, tokens):
    seq = [first_token(model.V)]
    for pos in range(tokens):
        seq.append(int(model.forward([seq[pos]], pos).argmax()))
    return seq


def run_pp(model, tokens):
    ids = [first_token(model.V) if i == 0 else (i * 97 + 13) % model.V for i in range(tokens)]
    return [int(model.forward(ids, 0).argmax())]


def main():
    with open(ARGS.model, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<i", data)[0]
    model = Gpt2(data) if magic == 0x32545047 else Llama(data)
    # Which BLAS and kernels it runs: a first forward loads them, then the mapped libraries say.
    model.forward([0], 0)
    print(json.dumps(pytorch_setup.describe(type(model).__name__.lower())), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        run = run_tg if cmd.get("test") == "tg" else run_pp
        if cmd["cmd"] == "ids":
            out = {"ids": run(model, cmd["tokens"])}
        elif cmd["cmd"] == "time":
            ns = []
            for _ in range(cmd["reps"]):
                start = time.perf_counter_ns()
                run(model, cmd["tokens"])
                ns.append(time.perf_counter_ns() - start)
            out = {"ns": ns}
        else:
            break
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
