"""What both PyTorch peers (pytorch_peer.py, pytorch_train_peer.py) do before anything else.

Parses --model/--threads/--cpus, pins the process to --cpus and sizes every thread pool to
--threads (OpenMP, OpenBLAS, MKL: before torch is imported, since pools are sized when their
libraries load; then torch.set_num_threads), and says how to install PyTorch when it is absent
(one JSON line {"error": ...}, exit 3: the bench prints it). describe() is the peer's "ready"
line: its version, threads, CPU capability and the BLAS libraries it mapped.
"""
import argparse
import json
import os
import sys


def start(description, model_required):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--model", required=model_required, default="")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cpus", default="")
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    if args.cpus:
        os.sched_setaffinity(0, [int(c) for c in args.cpus.split(",")])
    try:
        import torch
    except ImportError as e:
        print(json.dumps({"error": "PyTorch is not installed for /usr/bin/python3 (%s): "
                          "apt-get install python3-torch (tools/setup.sh installs it)" % e}),
              flush=True)
        sys.exit(3)
    torch.set_num_threads(args.threads)
    return args


def describe(ready):
    """The ready line's fields, after something has loaded the BLAS (so the maps show it)."""
    import torch
    config = torch.__config__.show()
    capability = [ln.split(":", 1)[1].strip() for ln in config.split("\n")
                  if "CPU capability usage" in ln]
    with open("/proc/self/maps") as maps:
        blas = sorted({ln.split()[-1] for ln in maps if "blas" in ln.lower() and "/" in ln})
    return {"ready": ready, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_capability": capability[0] if capability else "?", "blas_libraries": blas,
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "")}
