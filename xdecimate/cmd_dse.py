"""``xdecimate dse [--arch cnn vit] [--bases dense 1:8 ...] [--quick]``: approximate kernels.

The study of :mod:`xdecimate.sw.approx.explore` (``docs/approx.md``): per model, the cycles of
every layer x choice measured on the ISS, the greedy design-space exploration over the trained
base models, the Pareto front on all 10,000 test images, the fastest configurations at zero and
at ≤ 1 pp loss against int8 dense run end to end on the ISS and the CV32E40P RTL.  Writes
``dse-<arch>.json``, ``pareto-<arch>.png`` and ``dse.md`` into ``--out``.
"""

from __future__ import annotations

import argparse

from xdecimate.cli import ensure_out_dir, out_dir_arg

__all__ = ["register"]

_ARCHS = ("cnn", "vit")
_BASES = ("dense", "1:4", "1:8", "1:16", "2:8", "2:16")


def _run(args: argparse.Namespace) -> int:
    from xdecimate.sw.approx import explore

    ensure_out_dir(args.out)
    kw: dict[str, object] = dict(explore.QUICK) if args.quick else {}
    if args.bases:
        kw["bases"] = tuple(None if b == "dense" else b for b in dict.fromkeys(args.bases))
    if args.search_images is not None:
        kw["search_images"] = args.search_images
    md = []
    for arch in dict.fromkeys(args.arch):
        doc = explore.run_arch(arch, out=args.out, workers=args.workers, **kw)
        md.append(explore.markdown(doc))
    (args.out / "dse.md").write_text("\n".join(md))
    print("\n".join(md))
    print(f"wrote {args.out / 'dse.md'} and dse-<arch>.json, pareto-<arch>.png")
    return 0


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {v}")
    return v


def _search_images(text: str) -> int:
    v = _positive(text)
    if v > 10_000:
        raise argparse.ArgumentTypeError(f"the test split has 10,000 images, not {v}")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dse", help="approximate kernels: significance-driven skipping, DSE, "
                                   "Pareto front of accuracy vs cycles")
    p.add_argument("--arch", nargs="+", choices=_ARCHS, default=list(_ARCHS),
                   help="models (default: both)")
    p.add_argument("--bases", nargs="+", choices=_BASES, default=None,
                   help="trained base models to approximate (default: all six; --quick: "
                        "dense 1:8)")
    p.add_argument("--quick", action="store_true",
                   help="bases dense and 1:8, 500 search images, 3 pp budget, 2 + 1 on-core "
                        "images")
    p.add_argument("--search-images", type=_search_images, default=None, metavar="N",
                   help="test images of the search (default 2,000; the front is re-measured "
                        "on all 10,000)")
    p.add_argument("--workers", type=_positive, default=None, metavar="N",
                   help="processes (default: every core)")
    p.add_argument("--out", type=out_dir_arg, default="build/dse", metavar="DIR",
                   help="output folder (default: %(default)s)")
    p.set_defaults(func=_run)
