"""N:M pruning of chosen layers of a float graph (before quantization).

What it is for: make a network N:M-sparse the way the paper did -- ResNet18: the 3x3
convolutions; ViT: the MLP layers -- or any layers chosen by name or by a predicate.  Weights
are pruned as the kernels see them, the ``(Cout, kh·kw·Cin)`` matrix, with
:func:`~xdecimate.sw.model.prune.prune_nm` (magnitude, per block of M along K); the node gets
the attribute ``pattern``, which the quantizer keeps and the golden model and the cost tables
use.

May import: numpy, the standard library, :mod:`xdecimate.sw.model` and this package.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

from ..model.nm_format import Pattern
from ..model.prune import prune_nm
from .ir import Graph, Node

__all__ = ["RULES", "select_layers", "sparsify"]


def _is_3x3_conv(g: Graph, n: Node) -> bool:
    return n.op == "conv" and n.params["w"].shape[1:3] == (3, 3)


def _is_mlp_fc(g: Graph, n: Node) -> bool:
    """A linear layer that feeds a GELU or is fed by one (a transformer MLP's fc1 / fc2)."""
    if n.op != "linear":
        return False
    src = g.producer(n.inputs[0])
    return (src is not None and src.op == "gelu") or any(
        m.op == "gelu" for m in g.consumers(n.output))


#: Named selection rules: rule -> predicate(graph, node).
RULES: dict[str, Callable[[Graph, Node], bool]] = {
    "3x3-convs": _is_3x3_conv,
    "mlp-fcs": _is_mlp_fc,
    "all": lambda g, n: n.op in ("conv", "linear"),
}


def select_layers(graph: Graph, select: str | Iterable[str] | Callable[[Graph, Node], bool]
                  ) -> list[str]:
    """Names of the conv / linear nodes chosen by a rule name (:data:`RULES`), an iterable of
    node names, or a predicate ``(graph, node) -> bool``.

    Raises ``ValueError`` for an unknown rule, an unknown node name, or a named node that is
    not a conv / linear layer.
    """
    if isinstance(select, str):
        if select not in RULES:
            raise ValueError(f"unknown layer rule {select!r}; known rules: {sorted(RULES)} "
                             "(or pass node names or a predicate)")
        pred = RULES[select]
        return [n.name for n in graph.nodes if n.op in ("conv", "linear") and pred(graph, n)]
    if callable(select):
        return [n.name for n in graph.nodes if n.op in ("conv", "linear") and select(graph, n)]
    names = list(select)
    for name in names:
        try:
            n = graph.node(name)
        except KeyError:
            raise ValueError(f"no layer {name!r} in graph {graph.name!r} to sparsify") from None
        if n.op not in ("conv", "linear"):
            raise ValueError(f"layer {name!r} is a {n.op}: only conv and linear layers can be "
                             "N:M-sparse")
    return names


def sparsify(graph: Graph, pattern: Pattern | str,
             select: str | Iterable[str] | Callable[[Graph, Node], bool]) -> Graph:
    """A copy of float ``graph`` with the selected layers magnitude-pruned to ``pattern``.

    ``pattern`` is a :class:`~xdecimate.sw.model.nm_format.Pattern` or text like ``"1:8"``;
    ``select`` as :func:`select_layers`.

    Raises ``TypeError`` for a quantized graph (prune before quantizing) and ``ValueError``
    as :func:`select_layers` and ``Pattern.parse``.
    """
    if graph.quantized:
        raise TypeError(f"graph {graph.name!r} is quantized: sparsify the float graph, then "
                        "quantize it")
    if isinstance(pattern, str):
        pattern = Pattern.parse(pattern)
    elif not isinstance(pattern, Pattern):
        raise TypeError(f"pattern must be a Pattern or a str like '1:8', not "
                        f"{type(pattern).__name__}")
    chosen = set(select_layers(graph, select))
    g = copy.copy(graph)
    g.nodes = []
    for n in graph.nodes:
        if n.name in chosen:
            n = copy.copy(n)
            w = n.params["w"]
            n.params = {**n.params,
                        "w": prune_nm(w.reshape(w.shape[0], -1), pattern).reshape(w.shape)}
            n.attrs = {**n.attrs, "pattern": pattern}
        g.nodes.append(n)
    g.shapes = {}
    g.validate()
    return g
