"""The model reference (docs/model.md), generated from the docstrings of the modules and families that define
the model."""

from __future__ import annotations

import inspect

from optimizer.model import formulation, kinds, ladder, network, payroll, pooled, requirements
from optimizer.solvers import staged


def _doc(obj: object) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def render_model_reference() -> str:
    """Markdown reference of the model (docs/model.md is exactly this text), from the docstrings."""
    parts = [
        "# The cohort model",
        "",
        "Generated from the docstrings of `optimizer/model/` (network, formulation, kinds, ladder, requirements, pooled)",
        "and `optimizer/solvers/staged.py` by `optimizer.model.reference.render_model_reference()`.",
        "",
        "## Sets and variables",
        "",
        _doc(formulation),
        "",
        "## Flows, eligibility, landing rules and tier caps",
        "",
        _doc(network),
        "",
        "## Payroll: the people's actual pay",
        "",
        _doc(payroll),
        "",
        "## Kinds of scenario",
        "",
        _doc(kinds),
        "",
        "## Constraint families of a graded scenario (build order)",
        "",
    ]
    shown = set()
    for family in kinds.GRADED.families:
        parts += [f"### `{family.__name__}`", "", _doc(family), ""]
        shown.add(family)
    order = ", ".join(f"`{family.__name__}`" for family in kinds.LADDER.families)
    parts += ["## Own ladders (`categories`)", "", _doc(ladder), "", f"Families (build order): {order}.", ""]
    for family in kinds.LADDER.families:
        if family not in shown:
            parts += [f"### `{family.__name__}`", "", _doc(family), ""]
    parts += ["## Requirements (`requirements`)", "", _doc(requirements), ""]
    parts += ["## Objective and solve", "", _doc(staged), ""]
    parts += ["## A bound on the mix goal: the pooled relaxation", "", _doc(pooled), ""]
    return "\n".join(parts)
