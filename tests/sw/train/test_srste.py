"""sw/train/srste.py and train.py: N:M masks, the SR-STE gradient, a short training run."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from xdecimate.sw.model.nm_format import Pattern
from xdecimate.sw.model.prune import prune_nm
from xdecimate.sw.train import data, export, srste, train
from xdecimate.sw.train.config import PATTERNS
from xdecimate.sw.train.models import ARCHS


def test_mask_is_the_project_pruning():
    rng = np.random.default_rng(3)
    for pattern in PATTERNS:
        n, m = srste.parse_pattern(pattern)
        for shape in [(8, 3, 3, 16), (5, 50)]:
            w = rng.normal(size=shape).astype(np.float32)
            w[0, :6] = 0.25                  # ties go to the lower index, as prune_nm
            got = w * np.asarray(srste.nm_mask(jnp.asarray(w), n, m))
            want = prune_nm(w.reshape(shape[0], -1), Pattern(n, m)).reshape(shape)
            assert np.array_equal(got, want), (pattern, shape)


def test_srste_gradient_is_ste_plus_sparse_refined_decay():
    w = jnp.asarray(np.random.default_rng(0).normal(size=(4, 16)), jnp.float32)
    c = jnp.arange(64, dtype=jnp.float32).reshape(4, 16)
    g = jax.grad(lambda p: (srste.sparse_params(p, ["l"], "1:8")["l.w"] * c).sum())({"l.w": w})
    mask = srste.nm_mask(w, 1, 8)
    np.testing.assert_allclose(g["l.w"], c + srste.LAMBDA_W * (1 - mask) * w, rtol=1e-6)


def test_bad_pattern_text_is_named():
    with pytest.raises(ValueError, match="'8:1'"):
        srste.parse_pattern("8:1")
    with pytest.raises(ValueError, match="'1-8'"):
        srste.parse_pattern("1-8")


def test_short_srste_run_lowers_the_loss_and_ends_nm():
    # the ViT (its compile is the cheaper one): 4 epochs of 4 steps on 256 training images
    tr = data.load("train")
    small = data.Split(tr.images[:256], tr.labels[:256])
    hp = train.Hyper(dense_epochs=1, sparse_epochs=4, dense_lr=2e-3, sparse_lr=3e-3,
                     weight_decay=1e-4, batch=64)
    a = ARCHS["vit"]
    init = {k: np.asarray(v) for k, v in a.init(0).items()}
    params, hist = train.train_one(a, "1:8", init, hp, small, None)
    assert len(hist) == 4
    assert hist[-1]["loss"] < hist[0]["loss"]
    export.check_nm(params, "vit", "1:8")    # raises if any sparse layer is not 1:8
    for name in a.sparse:
        w = params[name + ".w"].reshape(params[name + ".w"].shape[0], -1)
        assert (w != 0).sum() == w.size // 8
