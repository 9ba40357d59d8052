"""``xdecimate net --network resnet18|vit [--quick]``: a whole network on the core, layer by layer.

For the dense network and each N:M pattern, deploys the built-in network
(:mod:`xdecimate.sw.net.builtins`, seeded random weights; ``--quick``: the reduced variant) as
one C program per kernel policy (:mod:`xdecimate.sw.deploy`), runs it on the ISS (or the
CV32E40P RTL with ``--target cv32e40p``), checks it bit for bit against the golden model and
reports per-layer cycles and shares, totals, the speedup over the dense policy (``dense_4x2``
on every layer, same flow), weight memory (dense vs N:M with indices) and memory use.  Writes
``net.json`` (schema: ``docs/net.md``) and ``net.md`` into ``--out``.

Flows (``--flow``): ``l2`` (default) -- everything in L2, layers in DMA-fed L1 tiles
(:mod:`xdecimate.sw.deploy.l2flow`), every tensor checked, DMA cycles per layer;
``--single-buffer`` also runs each configuration without double buffering.  ``dmem`` -- the
quick networks only, everything in the 128 kB DMEM, no DMA (``--check-layers`` for every
layer).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xdecimate.cli import CliError, ensure_out_dir, out_dir_arg, patterns_arg
from xdecimate.sw.deploy.suite import DEFAULT_PATTERNS, NETWORKS

__all__ = ["register"]


def _policy_arg(text: str) -> str:
    from xdecimate.sw.deploy.policy import check_policy

    try:
        return check_policy(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _run(args: argparse.Namespace) -> int:
    if args.flow == "dmem" and not args.quick:
        raise CliError("full-size networks do not fit the 128 kB DMEM: use the L2 flow "
                       "(--flow l2, the default) or --quick")
    ensure_out_dir(args.out)
    patterns = args.patterns if args.patterns is not None else DEFAULT_PATTERNS
    from xdecimate.sw.deploy.suite import net_markdown, run_net

    try:
        res = run_net(args.network, patterns, args.policy, args.target,
                      check_layers=args.check_layers, progress=not args.silent,
                      quick=args.quick, flow=args.flow, single_buffer=args.single_buffer,
                      skip_dense=args.skip_dense, derive_blocks=args.derive_blocks)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    md = net_markdown(res)
    out: Path = args.out
    (out / "net.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "net.md").write_text(md)
    print(md)
    print(f"wrote {out / 'net.json'}, {out / 'net.md'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("net", help="a whole network on the core: per-layer cycles, speedup")
    p.add_argument("--network", choices=NETWORKS, default="resnet18",
                   help="built-in network (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="the reduced network (seconds; fits the DMEM) instead of the full one")
    p.add_argument("--flow", choices=("l2", "dmem"), default="l2",
                   help="l2: tensors in L2, DMA-fed L1 tiles (default); dmem: all in the 128 kB "
                        "DMEM (quick networks only)")
    p.add_argument("--single-buffer", action="store_true",
                   help="L2 flow: also run every configuration without double buffering")
    p.add_argument("--skip-dense", action="store_true",
                   help="run only the N:M patterns (no dense baseline: no speedups)")
    p.add_argument("--derive-blocks", action="store_true",
                   help="ViT, L2 flow: run one encoder block and count it for all of them "
                        "(exact but for layer norm and softmax; the output says so)")
    p.add_argument("--patterns", type=patterns_arg, default=None, metavar="N:M[,N:M...]",
                   help=f"N:M patterns besides dense (default: {','.join(DEFAULT_PATTERNS)})")
    p.add_argument("--policy", type=_policy_arg, default="fastest",
                   help="kernel per layer: 'fastest' (measured on the ISS, default) or a kernel "
                        "name (dense_4x2, xdec4, sw4, ...)")
    p.add_argument("--target", choices=("iss", "cv32e40p"), default="iss",
                   help="run on the ISS (default) or the CV32E40P RTL with xDecimate")
    p.add_argument("--check-layers", action="store_true",
                   help="DMEM flow: also compare every layer's output with the golden model "
                        "(the L2 flow always does)")
    p.add_argument("--out", type=out_dir_arg, default="build/net", metavar="DIR",
                   help="output folder (default: %(default)s)")
    p.add_argument("--silent", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
