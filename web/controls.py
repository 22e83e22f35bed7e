"""The scenario keys planners change, as the page's controls, and what the controls amount to: overrides in
the ``--set key.path=value`` form of ``wfplan solve``, and a scenario YAML file that loads back to the same
scenario.

Each :class:`Control` names a scenario key; its bounds and help text come from the scenario schema
(:mod:`models.scenario`), so the page cannot offer a value the schema refuses (rules across keys, such as
target shares summing to 1 or the deadline within the horizon, are checked when the scenario is built, and
their messages shown as the CLI shows them). Shares and rates are shown in percent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from models.scenario import Scenario
from optimizer.api import override_text

ControlKind = Literal["percent", "whole", "number", "switch"]


@dataclass(frozen=True)
class Control:
    """A scenario key on the page: ``kind`` percent (a share or rate shown ×100), whole, number or switch.
    ``optional``: the key may be unset (None, an empty box on the page), which means something of its own (no
    unit budgets for ``budget.unit_growth``)."""

    key: str
    label: str
    kind: ControlKind
    group: str
    step: float = 1.0
    optional: bool = False

    @property
    def field(self) -> FieldInfo:
        """The key's field in the scenario schema."""
        model: type[BaseModel] = Scenario
        *sections, name = self.key.split(".")
        for section in sections:
            model = model.model_fields[section].annotation  # type: ignore[assignment]
        return model.model_fields[name]

    def bounds(self) -> tuple[float | None, float | None]:
        """(lowest, highest) value the schema allows, in the control's unit (None: unbounded)."""
        low = next((m.ge for m in self.field.metadata if getattr(m, "ge", None) is not None), None)
        high = next((m.le for m in self.field.metadata if getattr(m, "le", None) is not None), None)
        scale = 100 if self.kind == "percent" else 1
        return (None if low is None else low * scale, None if high is None else high * scale)

    @property
    def help(self) -> str:
        return self.field.description or ""

    def shown(self, raw: dict[str, Any]) -> Any:
        """The key's value in ``raw`` (a resolved scenario) as the control shows it."""
        value = raw
        for part in self.key.split("."):
            value = value[part]
        if value is None:
            return None
        if self.kind == "percent":
            return round(float(value) * 100, 6)
        if self.kind == "whole":
            return int(value)
        return bool(value) if self.kind == "switch" else float(value)

    def scenario_value(self, shown: Any) -> Any:
        """The scenario's value for what the control shows (None for an empty optional box)."""
        if shown is None:
            return None
        if self.kind == "percent":
            return round(float(shown) / 100, 10)
        if self.kind == "whole":
            return int(shown)
        return bool(shown) if self.kind == "switch" else float(shown)


CONTROLS: tuple[Control, ...] = (
    Control("mix.target.management", "Management target share (%)", "percent", "Mix", 0.5),
    Control("mix.target.technical", "Technical-business target share (%)", "percent", "Mix", 0.5),
    Control("mix.target.operations", "Operations target share (%)", "percent", "Mix", 0.5),
    Control("mix.tolerance", "Tolerance (± points)", "percent", "Mix", 0.1),
    Control("mix.deadline", "Deadline year", "whole", "Mix"),
    Control("horizon", "Horizon (years)", "whole", "Mix"),
    Control("budget.growth", "Budget growth per year (%)", "percent", "Budget", 0.5),
    Control("budget.unit_growth", "Each unit's budget growth per year (%; empty: no unit budgets)", "percent",
            "Budget", 0.5, optional=True),
    Control("workload.headcount", "Each unit keeps at least (% of its people)", "percent", "Workload", 1.0),
    Control("workload.operations", "Each unit keeps at least (% of its operations staff)", "percent", "Workload",
            1.0),
    Control("promotion.grade_rate", "Grade steps per year, at most (% of stock)", "percent", "Promotion", 1.0),
    Control("promotion.tier_rate", "Tier promotions per year, at most (% of stock)", "percent", "Promotion", 1.0),
    Control("promotion.min_years_in_grade", "Years in grade before a tier promotion", "whole", "Promotion"),
    Control("mobility.operations_to_technical", "Operations → technical moves, at most (%)", "percent", "Mobility", 1.0),
    Control("mobility.management_to_technical", "Management → technical moves, at most (%)", "percent", "Mobility", 1.0),
    Control("mobility.technical_to_management", "Technical → management moves, at most (%)", "percent", "Mobility", 1.0),
    Control("hiring.enabled", "External hiring", "switch", "Hiring"),
    Control("hiring.max_rate.technical", "Technical hires per year, at most (% of stock)", "percent", "Hiring", 1.0),
    Control("hiring.max_rate.operations", "Operations hires per year, at most (% of stock)", "percent", "Hiring", 1.0),
    Control("hiring.max_rate.management", "Management hires per year, at most (% of stock)", "percent", "Hiring", 1.0),
    Control("redundancy.enabled", "Redundancies allowed", "switch", "Hiring"),
    Control("solver.time_limit", "Solver time limit (s)", "number", "Solver", 10.0),
)
BY_KEY = {control.key: control for control in CONTROLS}
SWEEPABLE = tuple(control for control in CONTROLS if control.kind != "switch")
"""The keys the explore section can sweep (a switch has only two values: compare two runs instead)."""


def _differs(control: Control, base: Any, value: Any) -> bool:
    if base is None or value is None:
        return base is not value
    if control.kind in ("percent", "number"):
        return not math.isclose(float(base), float(value), rel_tol=0, abs_tol=1e-9)
    return base != value


def overrides_for(raw: dict[str, Any], shown: dict[str, Any], name: str | None = None) -> list[str]:
    """The overrides that turn the resolved scenario ``raw`` into what the controls show (``shown``: key →
    value as shown), in control order; ``name`` renames the what-if (when it differs)."""
    texts = [] if not name or name == raw["name"] else [override_text("name", name)]
    for control in CONTROLS:
        if control.key in shown:
            base, value = control.scenario_value(control.shown(raw)), control.scenario_value(shown[control.key])
            if _differs(control, base, value):
                texts.append(override_text(control.key, value))
    return texts


def scenario_yaml(scenario: Scenario, base: str) -> str:
    """The scenario as a YAML file that ``wfplan solve FILE --data DIR`` loads back to the same scenario: every
    key resolved (no ``extends``), the page's overrides listed in a comment."""
    raw = {key: value for key, value in scenario.to_raw().items() if key not in ("applied_overrides", "data")}
    head = [f"# What-if {scenario.name}, from {base}"]
    head += [f"#   {line}" for line in scenario.applied_overrides] or ["#   (no changes)"]
    body = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body
