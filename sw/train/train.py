"""``make train``: train both models dense, then N:M with SR-STE per pattern; ship the results.

What it is for: the one command that regenerates ``sw/train/trained/`` (``docs/train.md``)::

    python -m xdecimate.sw.train.train [--arch cnn,vit] [--patterns 1:4,...] [--out DIR]

Per model: a dense float model from a fixed seed (AdamW, cosine learning rate, random flips
and ±2 pixel shifts), then for every pattern SR-STE fine-tuning (:mod:`.srste`) *starting from
that dense model* (as stored), then a hard prune to the pattern.  Each result is stored as a
compressed ``.npz`` of float16 arrays (``<arch>-<dense|N-M>.npz``, :func:`.shipped.save_npz`);
``manifest.json`` records each file's sha256 and size, the command, the seeds and
hyper-parameters, the JAX / optax versions, the training time and the per-epoch curves
(training loss, float test top-1), and the float top-1 of the *stored* weights on the 10,000
test images.  A plot of the curves goes
to ``build/train/curves.png``.  Everything is seeded; XLA on CPU is deterministic for a given
machine, but float summation order may differ between CPUs, so the hashes pin *these* files,
not every rerun.

May import: jax, optax, numpy, matplotlib, rich, the standard library and this package.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import data, srste
from .config import ARCH_NAMES, PATTERNS
from .models import ARCHS, Arch, to_numpy
from .shipped import TRAINED_DIR, artifact_name, load_npz, save_npz, sha256

__all__ = ["DEFAULT_OUT", "HYPER", "Hyper", "float_top1", "main", "train_one"]

#: Where the shipped models live.
DEFAULT_OUT = TRAINED_DIR
SEED = 16


@dataclass(frozen=True)
class Hyper:
    """Hyper-parameters of one model: dense and SR-STE epochs, peak learning rates, decay."""

    dense_epochs: int
    sparse_epochs: int
    dense_lr: float
    sparse_lr: float
    weight_decay: float
    batch: int = 128


#: The hyper-parameters used for the shipped models.
HYPER = {
    "cnn": Hyper(dense_epochs=8, sparse_epochs=4, dense_lr=3e-3, sparse_lr=1e-3,
                 weight_decay=1e-4),
    "vit": Hyper(dense_epochs=10, sparse_epochs=4, dense_lr=2e-3, sparse_lr=7e-4,
                 weight_decay=0.05),
}


def _augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random horizontal flips and shifts of up to 2 pixels (zero fill), uint8 (B, 28, 28)."""
    b = len(x)
    flip = rng.random(b) < 0.5
    x = np.where(flip[:, None, None], x[:, :, ::-1], x)
    p = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    dy, dx = rng.integers(0, 5, b), rng.integers(0, 5, b)
    idx_y = dy[:, None] + np.arange(28)[None]
    idx_x = dx[:, None] + np.arange(28)[None]
    return p[np.arange(b)[:, None, None], idx_y[:, :, None], idx_x[:, None, :]]


def _to_input(x: np.ndarray) -> jax.Array:
    return jnp.asarray(x, jnp.float32)[..., None] / 255.0


def float_top1(arch: Arch, params: dict[str, np.ndarray], split: data.Split,
               batch: int = 1000) -> float:
    """Float top-1 (percent) of ``params`` on ``split`` (JAX, float32)."""
    fwd = jax.jit(arch.apply)
    p = {k: jnp.asarray(v) for k, v in params.items()}
    hits = 0
    for i in range(0, len(split), batch):
        logits = fwd(p, _to_input(split.images[i:i + batch]))
        hits += int((np.asarray(logits).argmax(1) == split.labels[i:i + batch]).sum())
    return 100.0 * hits / len(split)


def train_one(arch: Arch, pattern: str | None, init: dict[str, np.ndarray] | None,
              hp: Hyper, train: data.Split, test: data.Split | None, *, seed: int = SEED,
              epochs: int | None = None, progress: object | None = None
              ) -> tuple[dict[str, np.ndarray], list[dict[str, float]]]:
    """Train ``arch``: dense from a seeded init (``pattern`` None, ``init`` None), or SR-STE
    to ``pattern`` from ``init``.  Returns the final numpy parameters (hard-pruned to the
    pattern) and one history row per epoch (``loss``, ``train_top1``, and ``test_top1`` of
    the current sparse view if ``test`` is given).

    ``progress``: a ``rich.progress.Progress`` for a bar per epoch (None: silent).
    """
    epochs = epochs if epochs is not None else (
        hp.dense_epochs if pattern is None else hp.sparse_epochs)
    params = {k: jnp.asarray(v) for k, v in (init if init is not None
                                              else to_numpy(arch.init(seed))).items()}
    steps_per_epoch = len(train) // hp.batch
    total = max(1, steps_per_epoch * epochs)
    lr = hp.dense_lr if pattern is None else hp.sparse_lr
    sched = optax.warmup_cosine_decay_schedule(0.0, lr, min(500, total // 10), total, lr * 0.01)
    decay_mask = {k: v.ndim >= 2 and k not in ("cls", "pos") for k, v in params.items()}
    opt = optax.adamw(sched, weight_decay=hp.weight_decay, mask=decay_mask)
    state = opt.init(params)

    def loss_fn(p: dict[str, jax.Array], x: jax.Array, y: jax.Array
                ) -> tuple[jax.Array, jax.Array]:
        logits = arch.apply(srste.sparse_params(p, arch.sparse, pattern), x)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, (logits.argmax(1) == y).sum()

    @jax.jit
    def step(p: dict[str, jax.Array], s: optax.OptState, x: jax.Array, y: jax.Array
             ) -> tuple[dict[str, jax.Array], optax.OptState, jax.Array, jax.Array]:
        (loss, hits), g = jax.value_and_grad(loss_fn, has_aux=True)(p, x, y)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss, hits

    rng = np.random.default_rng([seed, 0 if pattern is None else hash_pattern(pattern)])
    history: list[dict[str, float]] = []
    label = f"{arch.name} {'dense' if pattern is None else pattern}"
    for ep in range(epochs):
        order = rng.permutation(len(train))
        task = None
        if progress is not None:
            task = progress.add_task(f"{label} epoch {ep + 1}/{epochs}", total=steps_per_epoch)
        tot_loss, tot_hits = 0.0, 0
        for i in range(steps_per_epoch):
            idx = order[i * hp.batch:(i + 1) * hp.batch]
            x = _to_input(_augment(train.images[idx], rng))
            params, state, loss, hits = step(params, state, x, jnp.asarray(train.labels[idx],
                                                                            jnp.int32))
            tot_loss += float(loss)
            tot_hits += int(hits)
            if task is not None:
                progress.update(task, advance=1)
        row = {"epoch": ep + 1, "loss": tot_loss / steps_per_epoch,
               "train_top1": 100.0 * tot_hits / (steps_per_epoch * hp.batch)}
        if test is not None:
            view = srste.hard_prune(to_numpy(params), arch.sparse, pattern)
            row["test_top1"] = float_top1(arch, view, test)
        history.append(row)
        if task is not None:
            msg = (f"{label} epoch {ep + 1}/{epochs}: loss {row['loss']:.3f}, train "
                   f"{row['train_top1']:.2f} %" + (f", test {row['test_top1']:.2f} %"
                                                   if "test_top1" in row else ""))
            progress.update(task, description=msg)
            progress.console.print(msg)
    return srste.hard_prune(to_numpy(params), arch.sparse, pattern), history


def hash_pattern(pattern: str) -> int:
    """A small stable integer of a pattern text (for seeding)."""
    return int(hashlib.sha256(pattern.encode()).hexdigest()[:6], 16)


def _csv(kind: str, allowed: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        items = [t.strip() for t in text.split(",")]
        bad = [t for t in items if t not in allowed]
        if not text or bad:
            raise argparse.ArgumentTypeError(f"{kind} must be a comma-separated subset of "
                                             f"{','.join(allowed)}, not {text!r}")
        return items
    return parse


def main(argv: list[str] | None = None) -> int:
    """The ``make train`` command line."""
    ap = argparse.ArgumentParser(prog="python -m xdecimate.sw.train.train",
                                 description="Train the Fashion-MNIST models (dense, then "
                                             "SR-STE per N:M pattern) and write the shipped "
                                             "files and their manifest.")
    ap.add_argument("--arch", type=_csv("--arch", ARCH_NAMES), default=list(ARCH_NAMES))
    ap.add_argument("--patterns", type=_csv("--patterns", PATTERNS), default=list(PATTERNS))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--plot", type=Path, default=Path("build/train/curves.png"))
    ap.add_argument("--epochs-scale", type=float, default=1.0,
                    help="multiply every epoch count (for trials; shipped models use 1)")
    args = ap.parse_args(argv)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    train, test = data.load("train"), data.load("test")
    args.out.mkdir(parents=True, exist_ok=True)
    mpath = args.out / "manifest.json"
    manifest = json.loads(mpath.read_text()) if mpath.is_file() else {"files": {}, "runs": {}}
    cmd = " ".join(["python -m xdecimate.sw.train.train",
                    *(sys.argv[1:] if argv is None else argv)])
    manifest.update({
        "command": "make train  # = python -m xdecimate.sw.train.train (both models, all "
                   "patterns); each run records the command that made it",
        "jax": jax.__version__, "optax": optax.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "machine": platform.machine(),
        "seed": SEED, "lambda_w": srste.LAMBDA_W,
    })
    t_all = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"
                  "/{task.total}"), TimeElapsedColumn()) as prog:
        for a in args.arch:
            arch, hp = ARCHS[a], HYPER[a]
            scale = args.epochs_scale
            dense_file = args.out / artifact_name(a, None)
            for pattern in [None, *args.patterns]:
                t0 = time.perf_counter()
                init = None if pattern is None else load_npz(dense_file)
                ep = max(1, round((hp.dense_epochs if pattern is None else hp.sparse_epochs)
                                  * scale))
                params, hist = train_one(arch, pattern, init, hp, train, test, epochs=ep,
                                         progress=prog)
                secs = time.perf_counter() - t0
                f = args.out / artifact_name(a, pattern)
                save_npz(f, params)
                top1 = float_top1(arch, load_npz(f), test)
                key = f.name
                manifest["files"][key] = {"sha256": sha256(f), "bytes": f.stat().st_size}
                manifest["runs"][key] = {
                    "arch": a, "pattern": pattern, "epochs": ep, "seconds": round(secs, 1),
                    "float_top1": top1, "hyper": hp.__dict__, "history": history_round(hist),
                    "start": None if pattern is None else dense_file.name, "command": cmd}
                prog.console.print(f"{key}: float top-1 {top1:.2f} % in {secs:.0f} s "
                                   f"({ep} epochs)")
                mpath.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    manifest["seconds_last_command"] = round(time.perf_counter() - t_all, 1)
    mpath.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    from .report import plot_curves

    print(f"curves: {plot_curves(manifest, args.plot)}")
    print(f"manifest: {mpath} (total {manifest['seconds_last_command']:.0f} s)")
    return 0


def history_round(hist: list[dict[str, float]]) -> list[dict[str, float]]:
    """History rows with 4 decimals (the manifest stays small and diffable)."""
    return [{k: round(v, 4) for k, v in h.items()} for h in hist]


if __name__ == "__main__":
    raise SystemExit(main())
