#!/usr/bin/env python3
"""A seeded mutation campaign against the programs users run on model files (issue 13).

Makes N variants of the real model and tokenizer files (models/data/stories260K.bin, tok512.bin)
and of a GPT-2 file written here (random finite weights), each with one to three mutations —
header fields set to interesting values, NaN/Inf weights, bit flips, truncation and growth,
tokenizer length fields, scores and bytes — and runs each through //models:generate and
//perf:model_bench with a time limit. It counts:
  crash      a signal (exit >= 128 or killed) or a sanitizer report on stderr
  hang       still running after --timeout seconds
  bad exit 0 exit 0 on a variant that must be refused: a non-finite weight where the loader
             reads weights, a size the header does not predict, a header field out of range
Build the sanitizer binaries first (bazel build --config=asan //models:generate
//perf:model_bench) to catch out-of-bounds reads; any build works.

    python3 tools/mutation_campaign.py --variants=1000 --seed=7919 \
        --bin=bazel-asan-bin --out=/tmp/campaign

Exits 1 when anything was counted. Prints one line per 100 variants and a summary.
"""
import argparse
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INTERESTING = [0, 1, -1, 2, 3, 7, 255, 256, 257, 512, 65536, 1 << 20, 0x7fffffff, -0x80000000,
               -512, 8192, 8193, 100000]
SANITIZER = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "UndefinedBehaviorSanitizer")


def llama_layout(data):
    dim, hidden, layers, heads, kv_heads, vocab, seq = struct.unpack_from("<7i", data)
    shared = vocab > 0
    vocab = abs(vocab)
    hs = dim // heads
    kv = kv_heads * hs
    params = (vocab * dim + layers * (dim + dim * dim + 2 * kv * dim + dim * dim + dim +
                                      3 * hidden * dim) + dim)
    weights_end = 28 + 4 * params
    rope_end = weights_end + 4 * seq * hs
    # Byte ranges the loader reads as weights (the rope tables are skipped).
    ranges = [(28, weights_end)]
    if not shared:
        ranges.append((rope_end, rope_end + 4 * vocab * dim))
    return ranges


def gpt2_file(rng, vocab, block, d, layers, heads):
    n = vocab * d + block * d + layers * (12 * d * d + 13 * d) + 2 * d + vocab * d
    header = struct.pack("<8i", 0x32545047, 1, vocab, block, d, layers, heads, 0)
    return header + struct.pack("<%df" % n, *[rng.uniform(-0.03, 0.03) for _ in range(n)])


def nonfinite_in(data, ranges):
    for lo, hi in ranges:
        hi = min(hi, len(data))
        lo = min(lo, hi)
        count = (hi - lo) // 4
        if count and any(not math.isfinite(v)
                         for v in struct.unpack_from("<%df" % count, data, lo)):
            return True
    return False


def mutate_model(rng, data, header_ints, ranges):
    """Returns (bytes, must_fail, description)."""
    b = bytearray(data)
    must_fail = False
    notes = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["header", "nonfinite", "bitflip", "truncate", "grow", "bytes"])
        if kind == "header":
            i = rng.randrange(header_ints)
            v = rng.choice(INTERESTING)
            struct.pack_into("<i", b, 4 * i, v)
            notes.append("header[%d]=%d" % (i, v))
        elif kind == "nonfinite":
            lo, hi = rng.choice(ranges)
            at = lo + 4 * rng.randrange(max(1, (hi - lo) // 4))
            if at + 4 <= len(b):
                struct.pack_into("<f", b, at, rng.choice([float("nan"), float("inf"),
                                                          float("-inf")]))
            notes.append("nonfinite@%d" % at)
        elif kind == "bitflip":
            at = rng.randrange(len(b)) if b else 0
            if b:
                b[at] ^= 1 << rng.randrange(8)
            notes.append("bitflip@%d" % at)
        elif kind == "truncate":
            n = rng.randrange(len(b) + 1)
            del b[n:]
            notes.append("truncate->%d" % n)
        elif kind == "grow":
            b += bytes(rng.randrange(1, 64))
            notes.append("grow->%d" % len(b))
        else:
            at = rng.randrange(len(b)) if b else 0
            for k in range(rng.randint(1, 16)):
                if at + k < len(b):
                    b[at + k] = rng.randrange(256)
            notes.append("bytes@%d" % at)
    if len(b) != len(data):
        must_fail = True  # the header (even a mutated one) no longer predicts this size...
    if bytes(b[:4 * header_ints]) == bytes(data[:4 * header_ints]) and nonfinite_in(b, ranges):
        must_fail = True  # ...and weights read as such hold a NaN or an Inf
    if len(b) >= 4 * header_ints:
        h = struct.unpack_from("<%di" % header_ints, b)
        if header_ints == 7:  # llama2.c: every field positive (vocab's sign has a meaning)
            must_fail |= min(h[:5] + (h[6],)) <= 0 or h[5] == 0
        else:  # GPT-2: magic, version 1, positive sizes, untied
            must_fail |= h[0] != 0x32545047 or h[1] != 1 or min(h[2:7]) <= 0 or h[7] != 0
    else:
        must_fail = True
    return bytes(b), must_fail, " ".join(notes)


def mutate_tokenizer(rng, data):
    b = bytearray(data)
    notes = []
    must_fail = False
    for _ in range(rng.randint(1, 2)):
        kind = rng.choice(["max_len", "score", "length", "bitflip", "truncate"])
        if kind == "max_len":
            v = rng.choice(INTERESTING)
            struct.pack_into("<i", b, 0, v)
            notes.append("max_token_length=%d" % v)
        elif kind == "score":
            struct.pack_into("<f", b, 4, float("nan"))
            must_fail = True
            notes.append("score0=nan")
        elif kind == "length":
            # the first token's length field
            v = rng.choice(INTERESTING)
            struct.pack_into("<i", b, 8, v)
            notes.append("len0=%d" % v)
        elif kind == "bitflip":
            at = rng.randrange(len(b))
            b[at] ^= 1 << rng.randrange(8)
            notes.append("bitflip@%d" % at)
        else:
            n = rng.randrange(len(b))
            del b[n:]
            must_fail = True
            notes.append("truncate->%d" % n)
    return bytes(b), must_fail, " ".join(notes)


def run(cmd, timeout):
    start = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stderr.decode(errors="replace"), time.time() - start
    except subprocess.TimeoutExpired:
        return None, "", time.time() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7919)
    ap.add_argument("--bin", default="bazel-bin", help="bazel-bin, bazel-asan-bin, ...")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--bench_every", type=int, default=1,
                    help="run model_bench on every k-th variant (generate runs on all)")
    ap.add_argument("--out", default="", help="folder for the per-variant log (results.jsonl)")
    args = ap.parse_args()
    if args.variants < 1 or args.timeout <= 0 or args.bench_every < 1:
        ap.error("--variants, --timeout and --bench_every must be positive")
    gen = os.path.join(ROOT, args.bin, "models", "generate")
    bench = os.path.join(ROOT, args.bin, "perf", "model_bench")
    for b in (gen, bench):
        if not os.access(b, os.X_OK):
            sys.exit("mutation_campaign: %s not built (bazel build //models:generate "
                     "//perf:model_bench, with the config of --bin)" % b)
    rng = random.Random(args.seed)
    with open(os.path.join(ROOT, "models", "data", "stories260K.bin"), "rb") as f:
        llama = f.read()
    with open(os.path.join(ROOT, "models", "data", "tok512.bin"), "rb") as f:
        tok = f.read()
    gpt2 = gpt2_file(random.Random(args.seed + 1), 256, 64, 128, 2, 4)
    gpt2_ranges = [(32, len(gpt2))]
    work = tempfile.mkdtemp(prefix="campaign")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    out = open(os.path.join(args.out, "results.jsonl"), "w") if args.out else None
    counts = {"variants": 0, "runs": 0, "crash": 0, "hang": 0, "bad_exit0": 0, "refused": 0,
              "accepted": 0}
    slowest = 0.0
    for i in range(args.variants):
        target = rng.choice(["llama", "llama", "gpt2", "tokenizer"])
        model_path = os.path.join(work, "model.bin")
        tok_path = os.path.join(work, "tok512.bin")
        with open(tok_path, "wb") as f:
            f.write(tok)
        if target == "llama":
            data, must_fail, notes = mutate_model(rng, llama, 7, llama_layout(llama))
        elif target == "gpt2":
            data, must_fail, notes = mutate_model(rng, gpt2, 8, gpt2_ranges)
        else:
            data, must_fail, notes = llama, False, ""
            tdata, must_fail, notes = mutate_tokenizer(rng, tok)
            with open(tok_path, "wb") as f:
                f.write(tdata)
        with open(model_path, "wb") as f:
            f.write(data)
        if target == "gpt2":
            gen_cmd = [gen, "--model=" + model_path, "--prompt_ids=1,2,3", "--print_ids",
                       "--steps=16"]
        else:
            gen_cmd = [gen, "--model=" + model_path, "--tokenizer=" + tok_path,
                       "--prompt=Once upon a time", "--steps=24"]
        cmds = [("generate", gen_cmd)]
        if i % args.bench_every == 0 and target != "tokenizer":
            cmds.append(("model_bench", [bench, "--model=" + model_path, "--quick",
                                         "--threads=1", "--tests=tg8", "--no_publish"]))
        counts["variants"] += 1
        for program, cmd in cmds:
            rc, err, seconds = run(cmd, args.timeout)
            slowest = max(slowest, seconds)
            counts["runs"] += 1
            verdict = "ok"
            if rc is None:
                verdict = "hang"
            elif rc < 0 or rc >= 128 or any(s in err for s in SANITIZER):
                verdict = "crash"
            elif rc == 0 and must_fail:
                verdict = "bad_exit0"
            if verdict != "ok":
                counts[verdict] += 1
                keep = os.path.join(args.out or work, "finding_%d_%s.bin" % (i, program))
                with open(keep, "wb") as f:
                    f.write(data if target != "tokenizer" else tdata)
                print("variant %d (%s, %s): %s %s: rc %s\n  %s" %
                      (i, target, notes, program, verdict, rc, err.strip()[-400:]))
            else:
                counts["refused" if rc != 0 else "accepted"] += 1
            if out:
                out.write(json.dumps({"variant": i, "target": target, "mutations": notes,
                                      "must_fail": must_fail, "program": program, "rc": rc,
                                      "seconds": round(seconds, 3), "verdict": verdict,
                                      "stderr": err.strip()[-300:]}) + "\n")
        if (i + 1) % 100 == 0:
            print("%d variants, %d runs: %d crash, %d hang, %d bad exit 0 (%d refused, "
                  "%d accepted)" % (i + 1, counts["runs"], counts["crash"], counts["hang"],
                                    counts["bad_exit0"], counts["refused"], counts["accepted"]),
                  flush=True)
    counts["slowest_s"] = round(slowest, 2)
    counts["seed"] = args.seed
    counts["bin"] = args.bin
    print(json.dumps(counts))
    return 1 if counts["crash"] or counts["hang"] or counts["bad_exit0"] else 0


if __name__ == "__main__":
    sys.exit(main())
