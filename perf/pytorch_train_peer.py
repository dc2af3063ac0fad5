#!/usr/bin/python3
"""The training bench's PyTorch peer: the same workloads as the lab's trainer, in plain PyTorch.

Started by //perf:train_bench (and the trainer's agreement test) as a subprocess:

    pytorch_train_peer.py --model=FILE --threads=T --cpus=0,1

It pins itself to --cpus and sets every thread pool to T (OpenMP, OpenBLAS, MKL: before torch is
imported; then torch.set_num_threads(T)), loads the GPT-2 model file (written by the lab's
trainer or model), prints one JSON line {"ready": ...} and answers one JSON command per line:

    {"cmd": "gpt", "batch": B, "seq": T, "lr": .., "beta1": .., "beta2": .., "eps": ..,
     "weight_decay": ..}                     (re)start GPT-2 training from the file's weights
    {"cmd": "gpt_step", "inputs": [...], "targets": [...]}     one step; {"loss": x}
    {"cmd": "gpt_time", "inputs": [...], "targets": [...], "reps": R}
                                             R steps on that batch, {"ns": [...], "loss": last}
    {"cmd": "mlp_time", "reps": R, "seed": S}    the report's MLP workload (below), R steps
    {"cmd": "matmul_backward_time", "reps": R}   dA = dC B^T and dB = A^T dC, 128x256 @ 256x128
    {"cmd": "quit"}

GPT-2 is models/gpt2_train.h's: pre-LayerNorm blocks, GELU (tanh), causal attention, untied
head, mean cross-entropy; AdamW (torch.optim.AdamW, decoupled decay) with the decay on the
weight matrices only (embeddings, the four linear layers of each block, the head), as the lab's.
The MLP: x (32 x 256) -> Linear(256, 256) -> GELU -> Linear(256, 256), MSE against a fixed
target, SGD at lr 0.01. Each timing is taken here around the work alone (time.perf_counter_ns).
"""
import json
import math
import struct
import sys
import time

import pytorch_setup

ARGS = pytorch_setup.start(__doc__.split("\n")[0], model_required=False)
import numpy as np  # noqa: E402 (after start(): the pools are sized before torch loads)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Gpt2:
    """Trainable GPT-2 from a model file's weights (file order, as models/gpt2_train.h keeps them)."""

    NAMES = ("ln1_w", "ln1_b", "attn_w", "attn_b", "proj_w", "proj_b", "ln2_w", "ln2_b",
             "fc_w", "fc_b", "fcproj_w", "fcproj_b")
    MATRICES = ("attn_w", "proj_w", "fc_w", "fcproj_w")

    def __init__(self, data):
        _, _, V, T, d, L, H, _ = struct.unpack_from("<8i", data)
        self.V, self.T, self.d, self.H, self.L = V, T, d, H, L
        f = np.frombuffer(data, dtype="<f4", offset=32)
        at = 0

        def take(*shape):
            nonlocal at
            n = math.prod(shape)
            t = torch.from_numpy(f[at:at + n].copy()).view(*shape).requires_grad_(True)
            at += n
            return t

        self.wte, self.wpe = take(V, d), take(T, d)
        shapes = dict(ln1_w=(d,), ln1_b=(d,), attn_w=(3 * d, d), attn_b=(3 * d,),
                      proj_w=(d, d), proj_b=(d,), ln2_w=(d,), ln2_b=(d,), fc_w=(4 * d, d),
                      fc_b=(4 * d,), fcproj_w=(d, 4 * d), fcproj_b=(d,))
        self.layers = [{n: take(*shapes[n]) for n in self.NAMES} for _ in range(L)]
        self.lnf_w, self.lnf_b, self.head = take(d), take(d), take(V, d)

    def groups(self, weight_decay):
        decay = [self.wte, self.wpe, self.head] + [l[n] for l in self.layers for n in self.MATRICES]
        rest = [self.lnf_w, self.lnf_b] + [l[n] for l in self.layers for n in self.NAMES
                                           if n not in self.MATRICES]
        return [{"params": decay, "weight_decay": weight_decay},
                {"params": rest, "weight_decay": 0.0}]

    def loss(self, inputs, targets):  # (B, T) long tensors
        B, T = inputs.shape
        d, H = self.d, self.H
        hs = d // H
        x = self.wte[inputs] + self.wpe[:T]
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        for w in self.layers:
            h = F.layer_norm(x, (d,), w["ln1_w"], w["ln1_b"], 1e-5)
            q, k, v = F.linear(h, w["attn_w"], w["attn_b"]).split(d, dim=2)
            q, k, v = (t.view(B, T, H, hs).transpose(1, 2) for t in (q, k, v))
            s = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
            y = torch.softmax(s.masked_fill(~mask, float("-inf")), dim=-1) @ v
            x = x + F.linear(y.transpose(1, 2).reshape(B, T, d), w["proj_w"], w["proj_b"])
            h = F.layer_norm(x, (d,), w["ln2_w"], w["ln2_b"], 1e-5)
            h = F.gelu(F.linear(h, w["fc_w"], w["fc_b"]), approximate="tanh")
            x = x + F.linear(h, w["fcproj_w"], w["fcproj_b"])
        x = F.layer_norm(x, (d,), self.lnf_w, self.lnf_b, 1e-5)
        logits = F.linear(x, self.head)
        return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))


class GptRun:
    def __init__(self, data, cmd):
        self.model = Gpt2(data)
        self.B, self.T = cmd["batch"], cmd["seq"]
        self.opt = torch.optim.AdamW(self.model.groups(cmd["weight_decay"]), lr=cmd["lr"],
                                     betas=(cmd["beta1"], cmd["beta2"]), eps=cmd["eps"])

    def batch(self, cmd):
        shape = (self.B, self.T)
        return (torch.tensor(cmd["inputs"], dtype=torch.long).view(shape),
                torch.tensor(cmd["targets"], dtype=torch.long).view(shape))

    def step(self, inputs, targets):
        self.opt.zero_grad(set_to_none=False)
        loss = self.model.loss(inputs, targets)
        loss.backward()
        self.opt.step()
        return loss.item()


def mlp_time(reps, seed):
    g = torch.Generator().manual_seed(seed)
    x, target = torch.randn(32, 256, generator=g), torch.randn(32, 256, generator=g)
    l1, l2 = torch.nn.Linear(256, 256), torch.nn.Linear(256, 256)
    opt = torch.optim.SGD(list(l1.parameters()) + list(l2.parameters()), lr=0.01)
    ns, loss = [], 0.0
    for _ in range(reps):
        start = time.perf_counter_ns()
        opt.zero_grad(set_to_none=False)
        out = F.mse_loss(l2(F.gelu(l1(x), approximate="tanh")), target)
        out.backward()
        opt.step()
        ns.append(time.perf_counter_ns() - start)
        loss = out.item()
    return {"ns": ns, "loss": loss}


def matmul_backward_time(reps):
    a, b, dc = torch.randn(128, 256), torch.randn(256, 128), torch.randn(128, 128)
    ns = []
    for _ in range(reps):
        start = time.perf_counter_ns()
        da = dc @ b.t()
        db = a.t() @ dc
        ns.append(time.perf_counter_ns() - start)
    return {"ns": ns, "check": float(da[0, 0] + db[0, 0])}


def main():
    data = b""
    if ARGS.model:
        with open(ARGS.model, "rb") as f:
            data = f.read()
    torch.randn(64, 64) @ torch.randn(64, 64)  # loads the BLAS, so the maps below show it
    print(json.dumps(pytorch_setup.describe("train")), flush=True)
    run = None
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            out = answer(cmd, data, run)
        except Exception as e:  # a bad command is answered, not a crash
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        if out is None:
            break
        if "run" in out:
            run = out.pop("run")
        print(json.dumps(out), flush=True)


def answer(cmd, data, run):
    c = cmd["cmd"]
    if c == "gpt":
        return {"ok": True, "run": GptRun(data, cmd)}
    if c == "gpt_step":
        return {"loss": run.step(*run.batch(cmd))}
    if c == "gpt_time":
        inputs, targets = run.batch(cmd)
        ns, loss = [], 0.0
        for _ in range(cmd["reps"]):
            start = time.perf_counter_ns()
            loss = run.step(inputs, targets)
            ns.append(time.perf_counter_ns() - start)
        return {"ns": ns, "loss": loss}
    if c == "mlp_time":
        return mlp_time(cmd["reps"], cmd.get("seed", 1))
    if c == "matmul_backward_time":
        return matmul_backward_time(cmd["reps"])
    return None


if __name__ == "__main__":
    main()
