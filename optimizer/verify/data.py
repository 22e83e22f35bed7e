"""What the verifier reads and recomputes: the plan folder and input tables, typed, and the figures
derived from them (pay, payroll, caps, flows by state). Part of the independent verifier
(:mod:`optimizer.verify.graded`): it shares no code with the formulation or the plan writer, and reads the plan
folder through its contract (:mod:`optimizer.plan.contract`, :mod:`optimizer.plan.reader`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from models.io import InputError, load_tables
from models.scenario import SEQUENCES, FlowCap, Scenario, Selection
from models.tables import FALSE_WORDS, TRUE_WORDS
from optimizer.plan.contract import INT, NUM, TABLES, TEXT
from optimizer.plan.reader import SUMMARY_FILE, read_plan_table, read_summary, typed_frame
from optimizer.verify.report import Unreadable, read_or_report
from optimizer.verify.requirements import requirement_costs

LIMIT = 20
"""Most items listed in one finding; the rest are counted."""
CENT = 0.01
"""Money written to the cent still matches its recomputation."""
SCORE_DIGITS = 1e-4
"""units.csv scores may be rounded to 4 decimals."""

STATE = ("unit", "sequence", "tier", "grade")
FROM = tuple(f"from_{c}" for c in STATE)
TO = tuple(f"to_{c}" for c in STATE)
ALL = "ALL"
KINDS = ("grade_step", "tier_promotion", "sequence_move", "unit_transfer", "downgrade", "hire", "redundancy",
         "attrition")
ACTIONS = ("stay", "grade_step", "tier_promotion", "sequence_move", "unit_transfer", "downgrade", "redundancy", "hire")
LEAVING = ("attrition", "redundancy")  # from-state only
INFLOWS = ("tier_promotion", "sequence_move", "unit_transfer", "hire")  # may land on a higher tier
DISRUPTIVE = ("tier_promotion", "sequence_move", "unit_transfer", "downgrade", "redundancy")
PAY_RULE_KINDS = ("tier_promotion", "sequence_move", "downgrade")
"""Flows whose landing grade the pay table sets (:meth:`PlanData.landing_grade`)."""
COST_PARTS = ("payroll", "hiring_cost", "retraining_cost", "redundancy_cost")
"""The parts of budget.csv ``total`` (the spending the budget cap limits)."""
REQUIREMENT_COSTS = ("overmanning_cost", "short_time_cost")
"""budget.csv columns outside ``total`` and the cap, on ALL rows only: the requirements' slack costs."""
ROUTES = ("operations_to_technical", "management_to_technical", "technical_to_management")
"""Sequence moves ``<from>_to_<to>``: each has a rate cap and a tier mapping in ``mobility``."""
CRITERIA = ("strategic", "efficiency", "governance", "innovation")
NEEDED_SUMMARY_KEYS = ("scenario", "status", "exit_code", "targets_met", "goal_deviations", "objective", "counts")
SUMMARY_TYPES: dict[str, type] = {"scenario": dict, "goal_deviations": dict, "objective": dict, "counts": dict}
"""The summary.json keys whose type the checks rely on (the others are compared as values)."""

INPUT_SCHEMAS: dict[str, dict[str, str]] = {
    "employees": {"employee_id": TEXT, "unit_id": TEXT, "sequence": TEXT, "tier": INT, "grade": INT,
                  "performance": NUM, "years_in_grade": NUM},
    "units": {"unit_id": TEXT, **dict.fromkeys(CRITERIA, NUM)},
    "pay": {"sequence": TEXT, "tier": INT, "grade": INT, "base_salary": NUM},
}
OPTIONAL_INPUT_COLUMNS: dict[str, dict[str, str]] = {
    "units": {"name": TEXT, "grade": TEXT, "last_review": INT, "min_headcount": NUM, "max_headcount": NUM,
              "min_operations": NUM, "budget_cap": NUM},
    "employees": {"technical_eligible": TEXT, "salary": NUM, "name": TEXT},
}


# ----------------------------------------------------------------------------------------------- loading


def _read_inputs(data_dir: Path, problems: list[str]) -> dict[str, pd.DataFrame]:
    """employees/units/pay as the solve read them: through :func:`models.io.load_tables`, the one reader of
    input tables (same files, same stripping of spaces, same blank rows dropped), then typed here on their own;
    a table that cannot be read is a problem."""
    try:
        raw = load_tables(data_dir)
    except InputError as exc:
        problems.extend(f"input tables: {problem}" for problem in exc.problems)
        return {}
    tables = {name: raw.frame(name).reset_index(drop=True) for name in INPUT_SCHEMAS}
    return {
        name: typed_frame(frame.mask(frame == ""), INPUT_SCHEMAS[name], f"input {name}", problems,
                          OPTIONAL_INPUT_COLUMNS.get(name))
        for name, frame in tables.items()
    }


def _flags(text: pd.Series, where: str, problems: list[str]) -> pd.Series:
    """A yes/no column (``true``/``1``/``yes``, ``false``/``0``/``no``, any case; blank = no) as booleans; other
    words are a problem."""
    word = text.str.strip().str.lower()
    bad = text.notna() & ~word.isin([*TRUE_WORDS, *FALSE_WORDS, ""])
    if bad.any():
        problems.append(f"{where}: {int(bad.sum())} value(s) are not true/false, e.g. {text[bad].iloc[0]!r}")
    return word.isin(TRUE_WORDS).fillna(False).astype(bool)


def _read_summary(plan_dir: Path, problems: list[str]) -> tuple[dict[str, Any], Scenario | None]:
    path = plan_dir / SUMMARY_FILE
    summary = read_or_report(path, lambda: read_summary(plan_dir), problems)
    if summary is None:
        return {}, None
    if not isinstance(summary, dict):
        problems.append(f"{path} is not a JSON object")
        return {}, None
    missing = [key for key in NEEDED_SUMMARY_KEYS if key not in summary]
    if missing:
        problems.append(f"summary.json lacks {', '.join(missing)}")
        return summary, None
    wrong = [key for key, kind in SUMMARY_TYPES.items() if not isinstance(summary[key], kind)]
    if wrong:
        problems.append(f"{path}: {', '.join(f'{key} is not {SUMMARY_TYPES[key].__name__}' for key in wrong)}")
        return summary, None
    try:
        return summary, Scenario.model_validate(summary["scenario"])
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        problems.append(f"summary.json scenario is not a valid scenario: {errors}")
        return summary, None


def load_plan(plan_dir: Path, data_dir: Path, tol: float) -> PlanData:
    problems: list[str] = []
    plan: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        path = plan_dir / f"{name}.csv"
        if not path.exists():
            problems.append(f"{path} is missing")
            continue
        frame = read_or_report(path, lambda: read_plan_table(plan_dir, name, problems), problems)
        if frame is not None:
            plan[name] = frame
    inputs = _read_inputs(data_dir, problems)
    summary, scenario = _read_summary(plan_dir, problems)
    pay = inputs.get("pay")
    if pay is not None and not problems and pay.duplicated(["sequence", "tier", "grade"]).any():
        problems.append("input pay: a (sequence, tier, grade) is listed more than once")
    if problems or scenario is None:
        raise Unreadable(problems)
    as_state = {"unit_id": "unit"}
    roster = inputs["employees"]
    eligible = roster["technical_eligible"] if "technical_eligible" in roster else pd.Series(pd.NA, index=roster.index,
                                                                                            dtype="str")
    roster = roster.assign(technical_eligible=_flags(eligible, "input employees.technical_eligible", problems))
    if problems:
        raise Unreadable(problems)
    return PlanData(
        scenario=scenario,
        summary=summary,
        roster=roster.rename(columns=as_state),
        units_in=inputs["units"],
        pay=inputs["pay"],
        units=plan["units"],
        actions=plan["actions"],
        headcount=plan["headcount"].rename(columns=as_state),
        flows=plan["flows"],
        budget=plan["budget"],
        mix=plan["mix"],
        requirements=plan["requirements"].to_dict("records"),
        tol=tol,
    )


# ----------------------------------------------------------------------------------- recomputed figures


def _selects(frame: pd.DataFrame, group: Selection, prefix: str) -> pd.Series:
    """Rows whose state (``<prefix>unit``, ``<prefix>sequence``, ``<prefix>tier``) ``group`` selects."""
    keep = pd.Series(True, index=frame.index)
    for column, wanted in (("unit", group.unit), ("sequence", group.sequence)):
        if wanted is not None:
            keep &= frame[f"{prefix}{column}"].eq(wanted).fillna(False)
    if group.tiers is not None:
        keep &= frame[f"{prefix}tier"].isin(group.tiers).fillna(False)
    return keep.astype(bool)


def route_of(moves: pd.DataFrame, kind: pd.Series) -> pd.Series:
    """``<from_sequence>_to_<to_sequence>`` where ``kind`` is a sequence move on a known route (:data:`ROUTES`),
    else missing."""
    route = (moves["from_sequence"] + "_to_" + moves["to_sequence"]).where(kind.eq("sequence_move"))
    return route.where(route.isin(ROUTES))


@dataclass(eq=False)
class PlanData:
    """The files a check reads, and the figures recomputed from them (each computed once). Compared and
    hashed by identity, so checks may keep figures of their own per plan (:mod:`optimizer.verify.people`)."""

    scenario: Scenario
    summary: dict[str, Any]
    roster: pd.DataFrame  # employee_id, unit, sequence, tier, grade
    units_in: pd.DataFrame
    pay: pd.DataFrame
    units: pd.DataFrame  # the plan's units.csv
    actions: pd.DataFrame
    headcount: pd.DataFrame  # year, unit, sequence, tier, grade, headcount
    flows: pd.DataFrame
    budget: pd.DataFrame
    mix: pd.DataFrame
    requirements: list[dict[str, Any]]  # requirements.csv rows
    tol: float

    @property
    def horizon(self) -> int:
        return self.scenario.horizon

    @property
    def years(self) -> pd.Series:
        return pd.Series(range(self.horizon + 1), dtype="Int64", name="year")

    def unit_terms(self, units: pd.Series, years: pd.Series, column: str) -> pd.Series:
        """units.csv ``column`` (``pay_coefficient``, ``max_tier``) of each (unit, year); missing where units.csv
        has no such row."""
        return self._unit_rows(units, years, [column])[column]

    def _unit_rows(self, units: pd.Series, years: pd.Series, columns: list[str]) -> pd.DataFrame:
        """units.csv ``columns`` of each (unit, year) (the file's first row of it), indexed like ``units``."""
        terms = self.units.drop_duplicates(["unit_id", "year"])[["unit_id", "year", *columns]]
        keys = pd.DataFrame({"unit_id": units.to_numpy(), "year": pd.array(years, dtype="Int64")})
        return keys.merge(terms, on=["unit_id", "year"], how="left")[columns].set_axis(units.index)

    def kept_coefficient(self, keys: pd.DataFrame, cap: pd.Series | None = None) -> pd.Series:
        """For each row of ``keys`` (unit, sequence, tier, year) whose technical tier is above that year's max_tier
        (units.csv): the pay_coefficient of the unit's last earlier year whose max_tier admitted the tier, the
        coefficient its red-circled people keep; missing elsewhere (within the cap, or above a cap that never
        admitted the tier). ``cap``: each row's max_tier, when the caller has it."""
        if cap is None:
            cap = self._unit_rows(keys["unit"], keys["year"], ["max_tier"])["max_tier"]
        cap = pd.to_numeric(cap, errors="coerce")
        above = (keys["sequence"].eq("technical") & (keys["tier"] > cap)).fillna(False).astype(bool)
        kept = pd.Series(np.nan, index=keys.index)
        if not above.any():
            return kept
        rows = keys[above].assign(row=keys.index[above])
        terms = self.units[["unit_id", "year", "pay_coefficient", "max_tier"]].rename(
            columns={"unit_id": "unit", "year": "admitted"})
        past = rows.merge(terms, on="unit")
        past = past[(past["admitted"] < past["year"]).fillna(False) & (past["max_tier"] >= past["tier"]).fillna(False)]
        return kept.fillna(past.sort_values("admitted").groupby("row")["pay_coefficient"].last().astype(float))

    def coefficient_of(self, keys: pd.DataFrame) -> pd.Series:
        """The pay coefficient of each row of ``keys`` (unit, sequence, tier, year): units.csv's pay_coefficient of
        (unit, year), except above a lowered cap, paid at the larger of it and the coefficient people there keep
        (:meth:`kept_coefficient`; docs/outputs.md)."""
        terms = self._unit_rows(keys["unit"], keys["year"], ["pay_coefficient", "max_tier"])
        now = terms["pay_coefficient"].astype(float)
        kept = self.kept_coefficient(keys, terms["max_tier"])
        return now.where(kept.isna(), np.fmax(now, kept))

    def pay_of(self, frame: pd.DataFrame, prefix: str = "", year: int | None = None) -> pd.Series:
        """pay(σ, t) = base_salary(sequence, tier, grade) × the pay coefficient of (unit, sequence, tier, t)
        (:meth:`coefficient_of`) of the state columns ``<prefix>unit, <prefix>sequence, …``, with t the frame's
        ``year`` column, or ``year`` when given; missing for a blank or unknown state."""
        keys = frame[[f"{prefix}{c}" for c in STATE]].set_axis(list(STATE), axis=1)
        base = keys.merge(self.pay, on=["sequence", "tier", "grade"], how="left")["base_salary"].to_numpy(float)
        years = frame["year"] if year is None else pd.Series(year, index=frame.index)
        coefficient = self.coefficient_of(keys.assign(year=pd.array(years, dtype="Int64")))
        return pd.Series(base * coefficient.to_numpy(float), index=frame.index)

    def landing_grade(self, flows: pd.DataFrame) -> pd.Series:
        """The grade the pay rule lands each flow on in its to-tier (``to_sequence``, ``to_tier``): the lowest grade
        whose base salary is at least the base salary of the from-state, else the tier's top grade; missing where
        either is not on the pay table."""
        pay, keys = self.pay, ["sequence", "tier", "grade"]
        start = flows[[f"from_{c}" for c in keys]].set_axis(keys, axis=1).merge(pay, on=keys, how="left")
        target = flows[["to_sequence", "to_tier"]].set_axis(["sequence", "tier"], axis=1).reset_index(drop=True)
        target = target.assign(row=target.index, from_base=start["base_salary"].to_numpy(float))
        grades = target.merge(pay, on=["sequence", "tier"])
        cut = grades["base_salary"] < grades["from_base"] - 1e-9  # a salary equal to the old one is no cut
        lowest = grades[~cut].groupby("row")["grade"].min()
        landing = lowest.combine_first(grades.groupby("row")["grade"].max())
        return pd.Series(landing.reindex(range(len(flows))).to_numpy(), index=flows.index, dtype="Int64")

    @cached_property
    def stock(self) -> pd.DataFrame:
        """headcount(σ, t): year, unit, sequence, tier, grade, headcount (repeated rows summed)."""
        return self.headcount.groupby(["year", *STATE], as_index=False)["headcount"].sum()

    def group_heads(self, group: Selection, year: int) -> float:
        """Σ headcount.csv of the states of ``group`` (its unit, sequence and tiers; absent: any) in ``year``."""
        stock = self.stock
        return float(stock.loc[stock["year"].eq(year) & _selects(stock, group, ""), "headcount"].sum())

    def brought_in(self, cap: FlowCap, year: int) -> float:
        """Σ flows.csv counts of ``year`` of a kind in ``cap.kinds`` whose to-state ``cap`` selects."""
        f = self.flows
        counted = _selects(f, cap, "to_") & f["year"].eq(year).fillna(False) & f["kind"].isin(cap.kinds)
        return float(f.loc[counted, "count"].sum())

    @cached_property
    def route(self) -> pd.Series:
        """:func:`route_of` the flows."""
        return route_of(self.flows, self.flows["kind"])

    def _one_off(self) -> pd.DataFrame:
        """year, unit_id, part, amount: per flow, count × the unit cost of its kind (docs/outputs.md)."""
        f, s = self.flows, self.scenario
        kind = f["kind"]
        per_head = np.select(
            [
                kind.eq("hire").to_numpy(bool),
                self.route.eq("operations_to_technical").to_numpy(bool),
                self.route.notna().to_numpy(bool),
                kind.eq("unit_transfer").to_numpy(bool),
                kind.eq("downgrade").to_numpy(bool),
                kind.eq("redundancy").to_numpy(bool),
            ],
            [
                f["to_sequence"].map(s.hiring.cost.model_dump()).to_numpy(float),
                s.mobility.retraining_cost,
                s.mobility.move_cost,
                s.mobility.transfer_cost,
                s.mobility.downgrade.cost,
                s.redundancy.cost_factor * self.pay_of(f, "from_").to_numpy(float),
            ],
            default=np.nan,
        )
        part = np.select(
            [kind.eq("hire").to_numpy(bool), kind.isin(["sequence_move", "unit_transfer", "downgrade"]).to_numpy(bool),
             kind.eq("redundancy").to_numpy(bool)],
            ["hiring_cost", "retraining_cost", "redundancy_cost"],
            default="",
        )
        charged = np.where(kind.eq("redundancy"), f["from_unit"], f["to_unit"])
        frame = pd.DataFrame({"year": f["year"], "unit_id": charged, "part": part, "amount": f["count"] * per_head})
        return frame[frame["part"] != ""]

    @cached_property
    def roster_salary(self) -> pd.Series:
        """Each roster employee's pay: ``salary`` where the roster gives it, else pay(state)."""
        table = self.roster_table_pay
        if "salary" not in self.roster.columns:
            return table
        return self.roster["salary"].astype(float).fillna(table)

    @cached_property
    def roster_table_pay(self) -> pd.Series:
        """pay(σ, 0) of each roster employee's state σ (:meth:`pay_of`)."""
        return self.pay_of(self.roster, year=0)

    @cached_property
    def stock_pay(self) -> pd.Series:
        """pay(σ, t) of each row of :attr:`stock`; missing for an unknown unit or a state without base salary."""
        return self.pay_of(self.stock)

    @cached_property
    def state_premium(self) -> pd.DataFrame:
        """unit, sequence, tier, grade, premium: r̄_σ = the roster's mean (salary − pay(σ)) per state."""
        premium = self.roster[list(STATE)].assign(premium=self.roster_salary - self.roster_table_pay)
        return premium.groupby(list(STATE), as_index=False)["premium"].mean()

    def _premium_mass(self) -> pd.DataFrame:
        """year, unit_id, premium: the pay above the pay table (docs/outputs.md, budget.csv): year 0 from the roster;
        year 1 Σ (new_salary − pay(to-state)) of the actions landing in the unit less year-1 attrition × r̄_σ;
        later years × (1 − ā_u) a year, ā_u the roster's mean attrition rate in the unit."""
        roster, attrition = self.roster, self.scenario.attrition
        start = roster.assign(premium=self.roster_salary - self.roster_table_pay).groupby("unit")["premium"].sum()
        landed = self.actions[self.actions["to_unit"].notna()]
        kept = (landed["new_salary"] - self.pay_of(landed, "to_")).groupby(landed["to_unit"]).sum()
        left = self.flows[self.flows["kind"].eq("attrition") & self.flows["year"].eq(1)]
        left = left[list(FROM) + ["count"]].set_axis([*STATE, "count"], axis=1).merge(self.state_premium, how="left")
        lost = (left["count"] * left["premium"].fillna(0.0)).groupby(left["unit"]).sum()
        pairs = roster[["sequence", "tier"]].drop_duplicates()
        pairs = pairs.assign(rate=[attrition.rate(str(q), int(k)) for q, k in pairs.itertuples(index=False)])
        rate = roster[["sequence", "tier"]].merge(pairs, how="left")["rate"].to_numpy(float)
        mean_rate = pd.Series(rate, index=roster.index).groupby(roster["unit"]).mean()
        units = self.units["unit_id"].drop_duplicates().reset_index(drop=True)
        year1 = units.map(kept).fillna(0.0) - units.map(lost).fillna(0.0)
        rows = [pd.DataFrame({"year": 0, "unit_id": units, "premium": units.map(start).fillna(0.0)})]
        for year in range(1, self.horizon + 1):
            share = (1.0 - units.map(mean_rate).fillna(0.0)) ** (year - 1)
            rows.append(pd.DataFrame({"year": year, "unit_id": units, "premium": year1 * share}))
        return pd.concat(rows, ignore_index=True).astype({"year": "Int64"})

    @cached_property
    def costs(self) -> pd.DataFrame:
        """Recomputed budget.csv (without cap): one row per unit of units.csv and year 0..H, plus ALL rows; the
        ALL rows carry the :data:`REQUIREMENT_COSTS` of requirements.csv (blank on unit rows). payroll =
        table_payroll + the premium mass (:meth:`_premium_mass`)."""
        keys = ["year", "unit_id"]
        tables = ["table_payroll", "red_circled_payroll"]
        table_payroll = self.stock_pay * self.stock["headcount"]
        red_circled = self.kept_coefficient(self.stock[["unit", "sequence", "tier", "year"]]).notna()
        stock = self.stock.assign(unit_id=self.stock["unit"], table_payroll=table_payroll,
                                  red_circled_payroll=table_payroll.where(red_circled, 0.0))
        frame = self.years.to_frame().merge(self.units[["unit_id"]].drop_duplicates(), how="cross")
        frame = frame.merge(stock.groupby(keys, as_index=False)[tables].sum(), on=keys, how="left")
        frame = frame.merge(self._premium_mass(), on=keys, how="left").fillna(
            {"table_payroll": 0.0, "red_circled_payroll": 0.0, "premium": 0.0})
        frame["payroll"] = frame["table_payroll"] + frame.pop("premium")
        one_off = self._one_off()
        for part in COST_PARTS[1:]:
            sums = one_off[one_off["part"] == part].groupby(keys, as_index=False)["amount"].sum()
            frame = frame.merge(sums.rename(columns={"amount": part}), on=keys, how="left")
        frame = frame.fillna({part: 0.0 for part in COST_PARTS})
        frame["total"] = frame[list(COST_PARTS)].sum(axis=1)
        totals = frame.groupby("year", as_index=False)[[*COST_PARTS, *tables, "total"]].sum().assign(unit_id=ALL)
        slack = requirement_costs(self)
        for i, part in enumerate(REQUIREMENT_COSTS):
            totals[part] = [slack.get(int(year), (0.0, 0.0))[i] for year in totals["year"]]
        return pd.concat([frame, totals], ignore_index=True)

    @cached_property
    def caps(self) -> pd.DataFrame:
        """year, unit_id, cap for t = 1..H: the group (ALL) budget.caps[t] when given, else payroll(0)·(1 + growth)^t;
        each unit with the units table's budget_cap that cap, else with budget.unit_growth payroll(u,0)·(1 +
        unit_growth)^t."""
        costs, budget = self.costs, self.scenario.budget
        base = costs.loc[costs["unit_id"].eq(ALL) & costs["year"].eq(0), "payroll"].sum()
        years = self.years[self.years >= 1]
        frames = [pd.DataFrame({"year": years, "unit_id": ALL,
                                "cap": [self.scenario.budget_cap(int(t), base) for t in years]})]
        start = costs[costs["year"].eq(0) & costs["unit_id"].ne(ALL)].set_index("unit_id")["payroll"]
        fixed = self.units_in.set_index("unit_id")["budget_cap"] if "budget_cap" in self.units_in else pd.Series(dtype=float)
        for unit in self.units["unit_id"].drop_duplicates():
            given = fixed.get(unit, np.nan)
            if pd.notna(given):
                frames.append(pd.DataFrame({"year": years, "unit_id": unit, "cap": float(given)}))
            elif budget.unit_growth is not None:
                caps = [start.get(unit, 0.0) * (1.0 + budget.unit_growth) ** int(t) for t in years]
                frames.append(pd.DataFrame({"year": years, "unit_id": unit, "cap": caps}))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def shares(self) -> pd.DataFrame:
        """Recomputed mix.csv: year, sequence, headcount, share, target, lower, upper for years 0..H."""
        mix = self.scenario.mix
        heads = self.stock.groupby(["year", "sequence"], as_index=False)["headcount"].sum()
        frame = self.years.to_frame().merge(pd.DataFrame({"sequence": list(SEQUENCES)}), how="cross")
        frame = frame.merge(heads, on=["year", "sequence"], how="left").fillna({"headcount": 0.0})
        total = frame.groupby("year")["headcount"].transform("sum")
        frame["share"] = (frame["headcount"] / total).where(total > 0, 0.0)
        frame["target"] = frame["sequence"].map(mix.target.model_dump())
        banded = frame["year"] >= mix.deadline
        frame["lower"] = (frame["target"] - mix.tolerance).where(banded)
        frame["upper"] = (frame["target"] + mix.tolerance).where(banded)
        return frame

    @property
    def targets_met(self) -> Any:
        return self.summary["targets_met"]
