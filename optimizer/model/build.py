"""Build the model of a scenario without solving it: variables, then the families its kind lists, in order."""

from __future__ import annotations

from optimizer.model.data import Index, ModelData
from optimizer.model.formulation import add_flow_variables, add_stock_variables
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
