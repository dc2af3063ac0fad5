#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (fuzz/README.md).

Small valid inputs of every shape each loader accepts, so that mutations reach deep into the
parsers: tiny Llama and GPT-2 files with random finite weights (shared and separate classifier,
grouped and plain attention), tokenizer inputs built from models/data/tok512.bin and a small
hand-made vocabulary, result records cut from the repository's published runs, and flag values.
Deterministic: run it again and nothing changes.

    python3 tools/make_fuzz_seeds.py
"""
import json
import os
import random
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def floats(rng, n, scale=0.1):
    return struct.pack("<%df" % n, *[rng.uniform(-scale, scale) for _ in range(n)])


def llama(rng, dim, hidden, layers, heads, kv_heads, vocab, seq, shared=True):
    hs = dim // heads
    kv = kv_heads * hs
    header = struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab if shared else -vocab,
                         seq)
    body = floats(rng, vocab * dim)
    body += struct.pack("<%df" % (layers * dim), *([1.0] * layers * dim))  # rms_att
    body += floats(rng, layers * dim * dim) + floats(rng, 2 * layers * kv * dim)
    body += floats(rng, layers * dim * dim)
    body += struct.pack("<%df" % (layers * dim), *([1.0] * layers * dim))  # rms_ffn
    body += floats(rng, 3 * layers * hidden * dim)
    body += struct.pack("<%df" % dim, *([1.0] * dim))  # rms_final
    body += bytes(4 * seq * hs)  # rope tables (skipped by the loader)
    if not shared:
        body += floats(rng, vocab * dim)
    return header + body


def gpt2(rng, vocab, block, d, layers, heads):
    header = struct.pack("<8i", 0x32545047, 1, vocab, block, d, layers, heads, 0)
    body = floats(rng, vocab * d) + floats(rng, block * d)
    for _ in range(layers):
        body += floats(rng, 2 * d, 1.0) + floats(rng, 3 * d * d + 3 * d) + floats(rng, d * d + d)
        body += floats(rng, 2 * d, 1.0) + floats(rng, 4 * d * d + 4 * d) + floats(rng, 4 * d * d + d)
    body += floats(rng, 2 * d, 1.0) + floats(rng, vocab * d)
    return header + body


def tokenizer(pieces, max_len):
    out = struct.pack("<i", max_len)
    for piece, score in pieces:
        out += struct.pack("<fi", score, len(piece)) + piece
    return out


def tokenizer_input(vocab, text, tok):
    return struct.pack("<HH", (vocab - 259) % 1024, len(text)) + text + tok


def main():
    rng = random.Random(20261204)
    write("llama_loader_fuzzer", "tiny_shared.bin", llama(rng, 8, 12, 1, 2, 1, 16, 8))
    write("llama_loader_fuzzer", "tiny_separate.bin", llama(rng, 8, 12, 2, 2, 2, 16, 8, False))
    write("llama_loader_fuzzer", "tiny_gqa.bin", llama(rng, 16, 20, 1, 4, 2, 32, 16))
    write("gpt2_loader_fuzzer", "tiny.bin", gpt2(rng, 16, 8, 8, 1, 2))
    write("gpt2_loader_fuzzer", "two_layers.bin", gpt2(rng, 32, 16, 16, 2, 4))

    with open(os.path.join(ROOT, "models", "data", "tok512.bin"), "rb") as f:
        tok512 = f.read()
    write("tokenizer_fuzzer", "tok512_once.bin", tokenizer_input(512, b"Once upon a time", tok512))
    write("tokenizer_fuzzer", "tok512_utf8.bin",
          tokenizer_input(512, "Caf\u00e9 \u2713 zq\n  x".encode(), tok512))
    specials = [(b"<unk>", 0.0), (b"<s>", 0.0), (b"</s>", 0.0)]
    byte_tokens = [(b"<0x%02X>" % b, 0.0) for b in range(256)]
    merges = [(b" ", -1.0), (b"a", -2.0), (b"b", -2.0), (b"ab", -0.5), (b" a", -0.7),
              (b"aa", -0.6), (b"abab", -0.1)]
    hand = tokenizer(specials + byte_tokens + merges, 4)
    write("tokenizer_fuzzer", "hand_ab.bin", tokenizer_input(266, b"abab aab ba", hand))

    runs = os.path.join(ROOT, "results", "runs")
    taken = set()
    for run in sorted(os.listdir(runs), reverse=True):
        for name in os.listdir(os.path.join(runs, run)):
            if not name.endswith(".json"):
                continue
            suite = name[:-5]
            if suite in taken:
                continue
            with open(os.path.join(runs, run, name)) as f:
                record = json.load(f)
            record["rows"] = record.get("rows", [])[:3]
            write("record_fuzzer", suite + ".json", json.dumps(record, sort_keys=True).encode())
            taken.add(suite)

    for i, flag in enumerate([b"64,128,256", b"0,1", b"1,0", b"16384", b"packed_8x32.*",
                              b"(gelu|silu).*", b"sgemm_auto|linear_packed", b"a{2,3}b?",
                              b"u?{0,1}+?{2,9}b"]):  # the last: std::regex took seconds
        write("flags_fuzzer", "seed%d" % i, flag)


if __name__ == "__main__":
    main()
