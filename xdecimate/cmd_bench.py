"""``xdecimate bench --iss [--quick]``: dense vs software-sparse vs xDecimate kernel cycles.

``xdecimate bench --target cv32e40p [--quick]``: the kernels without xDecimate instructions
(dense 1×2, 4×2, software sparse) on the ISS and on the real CV32E40P RTL, cycles side by side
(:func:`xdecimate.sw.bench.crosscheck.bench_cv32e40p`); exit status 1 unless all agree exactly.

Runs the C kernels (``sw/kernels/c/kernels``) on representative layer tiles
(:mod:`xdecimate.sw.bench.suite`), checks every output bit for bit against the golden model,
prints a table and writes ``bench.json``, ``bench.md`` and ``speedup.png`` (ours vs the paper) into
``--out``.
"""

from __future__ import annotations

import argparse

from xdecimate.cli import ensure_out_dir, out_dir_arg, patterns_arg

__all__ = ["register"]


def _print_table(res) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"xDecimate kernel benchmark (target {res.target}; speedup = dense / sparse "
                    "kernel cycles; paper values in brackets)")
    for col in ("Layer", "Kind", "Pattern", "Kernel", "Cycles", "vs 1×2", "vs 4×2",
                "Loop instr/8 MAC", "im2col", "requant"):
        t.add_column(col, justify="left" if col in ("Layer", "Kind", "Kernel") else "right",
                     no_wrap=True)
    for r in res.runs:
        if r.pattern == "dense":
            t.add_row(r.layer, r.kind, "dense", r.kernel, str(r.kernel_cycles), "", "",
                      f"{r.loop.per_8_macs:.1f}", "", "")
    for r in res.rows:
        cells = []
        for base in ("dense_1x2", "dense_4x2"):
            p = r[f"paper_{base}"]
            cells.append(f"{r[f'speedup_{base}']:.2f}×" + (f" [{p:.2f}]" if p else ""))
        t.add_row(str(r["layer"]), str(r["kind"]), str(r["pattern"]), str(r["kernel"]),
                  str(r["cycles"]), *cells, f"{r['loop_instr_per_8mac']:.0f}",
                  f"{r['share_im2col']:.0%}", f"{r['share_requant']:.0%}")
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # pipes and logs: never wrap the table
    console.print(t)


def _run(args: argparse.Namespace) -> int:
    from xdecimate.sw.bench import suite as bench

    patterns = args.patterns  # checked by patterns_arg; None: the default list
    ensure_out_dir(args.out)  # before the long work
    if args.target == "cv32e40p":
        from xdecimate.sw.bench import crosscheck

        md, ok = crosscheck.bench_cv32e40p(quick=args.quick, patterns=patterns,
                                           out=args.out,
                                           log=(lambda m: None) if args.silent else print)
        print(md)
        print(f"wrote {args.out / 'cv32e40p.md'}")
        return 0 if ok else 1
    if args.target != "iss":
        raise ValueError(f"unknown bench target {args.target!r}")
    res = bench.run_bench(quick=args.quick, patterns=patterns,
                          log=(lambda m: None) if args.silent else print)
    _print_table(res)
    paths = bench.write_outputs(res, args.out)
    print(f"wrote {', '.join(str(p) for p in paths.values())} ({res.seconds:.0f} s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="kernel cycles: dense vs SW-sparse vs xDecimate")
    p.add_argument("--iss", dest="target", action="store_const", const="iss", default="iss",
                   help="run on the Python ISS with the CV32E40P-like timing model (default)")
    p.add_argument("--target", dest="target", choices=("iss", "cv32e40p"),
                   help="iss (= --iss) or cv32e40p: the kernels without xDecimate on the ISS "
                        "and on the CV32E40P RTL, cycles side by side")
    p.add_argument("--quick", action="store_true", help="two small layers, N = 1 patterns")
    p.add_argument("--patterns", type=patterns_arg, default=None, metavar="N:M[,N:M...]",
                   help="comma-separated N:M patterns, each once (default: all; --quick: "
                        "1:4,1:8,1:16)")
    p.add_argument("--out", type=out_dir_arg, default="build/bench", metavar="DIR",
                   help="output folder (default: %(default)s)")
    p.add_argument("--silent", action="store_true", help="no per-run progress lines")
    p.set_defaults(func=_run)
