"""``xdecimate net --network resnet18|vit --quick``: a whole network on the core, layer by layer.

For the dense network and each N:M pattern, deploys the built-in network
(:mod:`xdecimate.sw.net.builtins`, seeded random weights) as one C program per kernel policy
(:mod:`xdecimate.sw.deploy`), runs it on the ISS (or the CV32E40P RTL with ``--target
cv32e40p``), checks the output bit for bit against the golden model (every layer's output with
``--check-layers``) and reports per-layer cycles and shares, totals, the speedup over the dense
policy (``dense_4x2`` on every layer, same flow), weight memory (dense vs N:M with indices) and
DMEM use.  Writes ``net.json`` and ``net.md`` into ``--out``.

Only the quick networks fit the 128 kB DMEM; full-size networks need the L2/DMA flow, which is
not built yet (``--quick`` is required).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from xdecimate.cli import CliError, ensure_out_dir, out_dir_arg, patterns_arg

if TYPE_CHECKING:
    from xdecimate.sw.net.ir import Graph

__all__ = ["net_markdown", "register", "run_net"]

NETWORKS = ("resnet18", "vit")
#: Patterns run by default (besides the dense network).
DEFAULT_PATTERNS = ("1:4", "1:8", "1:16")


def _policy_arg(text: str) -> str:
    from xdecimate.sw.deploy.policy import check_policy

    try:
        return check_policy(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _graph(network: str, pattern: str | None) -> Graph:
    from xdecimate.sw.net import builtins

    if network == "resnet18":
        return builtins.resnet18_cifar(pattern=pattern, quick=True)
    return builtins.vit_s16(pattern=pattern, quick=True)


def run_net(network: str, patterns: tuple[str, ...], policy: str, target: str, *,
            check_layers: bool = False, progress: bool = True) -> dict[str, object]:
    """Run the dense baseline and ``policy`` at every pattern; the results as a JSON dict.

    Keys: ``network``, ``policy``, ``target``, ``baseline`` (the dense network, policy
    ``dense_4x2``; absent if it does not fit the DMEM), ``runs`` (one per pattern, ``"dense"``
    first, each with its ``speedup`` over the baseline -- None without one -- and
    ``weight_ratio`` = dense / stored weight bytes) and ``skipped`` (the runs that do not fit
    the DMEM, with the error).

    Raises
    ------
    CliError
        No run fits the DMEM.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from xdecimate.sw.deploy import run

    jobs = [(None, "dense_4x2")] + [(None if p == "dense" else p, policy)
                                    for p in ("dense", *patterns)]
    out: dict[str, object] = {"network": network, "policy": policy, "target": target}
    runs: list[dict] = []
    skipped: list[dict] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeElapsedColumn(), disable=not progress) as bar:
        task = bar.add_task("network runs", total=len(jobs))
        for i, (pat, pol) in enumerate(jobs):
            name = pat or "dense"

            def log(msg: str, name: str = name, pol: str = pol) -> None:
                bar.update(task, description=f"{name} {pol}: {msg}"[:90])

            log("generating")
            try:
                r = run.run_network(_graph(network, pat), policy=pol, target=target,
                                    check_layers=check_layers, log=log)
            except ValueError as exc:
                if "DMEM" not in str(exc):
                    raise
                bar.advance(task)
                skipped.append({"pattern": name, "policy": pol, "error": str(exc)})
                continue
            d = r.to_json()
            d["pattern"] = name
            if i == 0:
                out["baseline"] = d
            else:
                base = out.get("baseline")
                d["speedup"] = base["cycles"] / r.cycles if isinstance(base, dict) else None
                d["weight_ratio"] = r.dense_weight_bytes / r.weight_bytes
                runs.append(d)
            bar.advance(task)
    out["runs"] = runs
    out["skipped"] = skipped
    if not runs:
        raise CliError(f"no run of {network} fits the DMEM: {skipped[0]['error']}")
    return out


def net_markdown(res: dict) -> str:
    """The report: one per-layer table (cycles per pattern, kernel, share) and the totals."""
    base, runs = res.get("baseline"), res["runs"]
    ref = base or runs[0]
    lines = [f"# {ref['network']} on {res['target']}: policy {res['policy']!r}", "",
             "Cycles per layer (marked region around each step); baseline = dense network, "
             "`dense_4x2` on every layer. Outputs bit-exact with the golden model"
             + (" (every layer)." if ref["layers_checked"] else " (final output)."), ""]
    head = "| layer | op | MACs | baseline | " + " | ".join(
        f"{r['pattern']} kernel | {r['pattern']} cycles | share" for r in runs) + " |"
    lines += [head, "|" + "---|" * (4 + 3 * len(runs))]
    for j, rl in enumerate(ref["layers"]):
        cells = [rl["node"], rl["op"], str(rl["macs"]),
                 str(base["layers"][j]["cycles"]) if base else "-"]
        for r in runs:
            lr = r["layers"][j]
            cells += [lr["kernel"] or "", str(lr["cycles"]), f"{lr['cycles'] / r['cycles']:.1%}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| pattern | cycles | speedup vs baseline | weights B (stored) | dense B | "
              "ratio | DMEM static B | arena peak B (no reuse) |",
              "|---|---|---|---|---|---|---|---|"]
    rows = ([dict(base, pattern="baseline", speedup=1.0, weight_ratio=1.0)] if base else [])
    for r in rows + runs:
        sp = "-" if r["speedup"] is None else f"{r['speedup']:.2f}×"
        lines.append(f"| {r['pattern']} | {r['cycles']} | {sp} | {r['weight_bytes']} | "
                     f"{r['dense_weight_bytes']} | {r['weight_ratio']:.2f}× | "
                     f"{r['dmem_static']} | {r['arena_peak']} ({r['arena_total']}) |")
    for sk in res.get("skipped", []):
        lines.append(f"\nNot run ({sk['pattern']}, policy {sk['policy']}): {sk['error']}")
    lines += ["", "Weights: int8 matrices as the program stores them (dense rows padded to 4 "
              "bytes; N:M images with their indices); biases and descriptors not included. "
              "DMEM static: data + bss of the ELF (the stack's 2 kB reserve comes on top).", ""]
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    if not args.quick:
        raise CliError("full-size networks do not fit the 128 kB DMEM: they need the L2/DMA "
                       "flow (weights streamed per layer), which is not built yet; use --quick")
    ensure_out_dir(args.out)
    patterns = args.patterns if args.patterns is not None else DEFAULT_PATTERNS
    res = run_net(args.network, patterns, args.policy, args.target,
                  check_layers=args.check_layers, progress=not args.silent)
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
                   help="the reduced network that fits the DMEM (required for now)")
    p.add_argument("--patterns", type=patterns_arg, default=None, metavar="N:M[,N:M...]",
                   help=f"N:M patterns besides dense (default: {','.join(DEFAULT_PATTERNS)})")
    p.add_argument("--policy", type=_policy_arg, default="fastest",
                   help="kernel per layer: 'fastest' (measured on the ISS, default) or a kernel "
                        "name (dense_4x2, xdec4, sw4, ...)")
    p.add_argument("--target", choices=("iss", "cv32e40p"), default="iss",
                   help="run on the ISS (default) or the CV32E40P RTL with xDecimate")
    p.add_argument("--check-layers", action="store_true",
                   help="also compare every layer's output with the golden model")
    p.add_argument("--out", type=out_dir_arg, default="build/net", metavar="DIR",
                   help="output folder (default: %(default)s)")
    p.add_argument("--silent", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
