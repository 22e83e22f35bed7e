"""Build the model of a scenario without solving it: variables, then the families its kind lists, in order;
and the model reference (docs/model.md) generated from the docstrings of the families."""

from __future__ import annotations

import inspect

from optimizer.model import formulation, kinds, ladder, network, payroll, requirements
from optimizer.model.data import Index, ModelData
from optimizer.model.formulation import add_flow_variables, add_stock_variables
from optimizer.solvers import staged
from optimizer.solvers.linear_model import LinearModel


def build_model(data: ModelData) -> tuple[LinearModel, Index]:
    """The cohort MILP (or LP) of ``data``: stock and flow variables over the kind's network, then each
    constraint family of the kind (:attr:`optimizer.model.data.ModelKind.families`) in its order."""
    model = LinearModel(name=data.scenario.name)
    index = Index(data.kind.network(data))
    add_stock_variables(model, data, index)
    add_flow_variables(model, data, index)
    for family in data.kind.families:
        family(model, data, index)
    return model, index


def _doc(obj: object) -> str:
    return inspect.cleandoc(obj.__doc__ or "")


def render_model_reference() -> str:
    """Markdown reference of the model (docs/model.md is exactly this text), from the docstrings."""
    parts = [
        "# The cohort model",
        "",
        "Generated from the docstrings of `optimizer/model/` (network, formulation, kinds, ladder, requirements)",
        "and `optimizer/solvers/staged.py` by `optimizer.model.build.render_model_reference()`.",
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
    return "\n".join(parts)
