"""The cost of merit across positions (issue "Merit decides"), before and after, in one run.

One plan of the demo group (``wfplan demo``'s generator and seed, baseline scenario). *Before* is the model's
own plan (the cohort model solved as always: its year-1 split over the cohorts of a position is free, and
merit used to act only inside each cohort); *after* is the plan with merit across each position
(:mod:`optimizer.plan.merit`: the same year-1 counts per position and action dealt by merit, later years
solved again with year 1 fixed). Both come from the same process and solve: the goals before are the
model's stages, the goals after the written plan's; the seconds are the pipeline's phases. The people
passed over are counted on both plans by the same rule (:func:`optimizer.plan.merit.assess`): an eligible
person who stays on the wrong side of the line of an action in their position, except where the cohort
limit holds them back (then an exception).

    /tmp/venv/bin/python benchmarks/merit.py --employees 20000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from models.scenario_files import load_scenario, scenario_path
from models.synthetic import write_generated
from models.validation import load_inputs
from optimizer.cli.plan import DEMO_SEED
from optimizer.model.build import build_model
from optimizer.model.kinds import graded_model_data
from optimizer.pipeline import compute_plan
from optimizer.plan.disaggregate import employee_actions
from optimizer.plan.merit import MeritRule, availability, assess


def passed_over(lines: pd.DataFrame, persons: pd.DataFrame) -> dict[str, int]:
    """Positions with a person passed over (not held back), those people, and the exceptions."""
    breach = persons[persons["passed"] & ~persons["held"]]
    return {"positions": int(breach[["unit_id", "sequence", "tier", "grade"]].drop_duplicates().shape[0]),
            "people": int(breach["employee_id"].nunique()), "exceptions": int(lines["exceptions"].sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--units", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        write_generated(data, args.employees, args.units, DEMO_SEED)
        scenario = load_scenario(scenario_path("baseline"))
        computed = compute_plan(scenario, data)
        if computed.reference is None:
            raise SystemExit(f"no plan: exit {computed.exit_code}, {computed.summary.get('status')}")
        tables = load_inputs(data)
        model_data, _, roster = graded_model_data(tables, scenario)
        _, index = build_model(model_data)
        rule = MeritRule.of(index.network.arcs[1], availability(model_data.initial, model_data.acting_share))
        before_values = computed.reference.solution.values  # the model's own plan (the reference keeps it)
        year1 = {arc: int(round(before_values[var])) for arc, var in index.flows_of(1)}
        before_actions, _ = employee_actions(roster, year1, model_data.pay, rule)
        before = assess(_people(roster, before_actions), rule)
        after = assess(_people(roster, computed.tables["actions"]), rule)
    summary, timings = computed.summary, computed.timings
    stages = {s["term"]: s for s in summary["solver"]["stages"]}
    merit = summary["merit"]
    rows = [
        ("solve s (model)", timings.get("solve", 0.0), timings.get("solve", 0.0)),
        ("merit deal s", 0.0, timings.get("merit", 0.0)),
        ("merit re-solve s", 0.0, timings.get("merit re-solve", 0.0)),
        ("cost goal (CNY)", stages["cost"]["objective"], summary["objective"]["cost"]),
        ("disruption goal", stages["disruption"]["objective"], summary["objective"]["disruption"]),
        *((f"passed over: {k}", v, passed_over(*after)[k]) for k, v in passed_over(*before).items()),
    ]
    print(f"{args.employees} employees, {args.units} units; merit moved {merit['people_moved']} people between "
          f"cohorts; re-solved: {merit['resolved']}")
    print("| measure | before | after | after / before |\n|---|---|---|---|")
    for name, before, after_value in rows:
        ratio = f"{after_value / before:.6g}" if before else "—"
        print(f"| {name} | {before:,.6g} | {after_value:,.6g} | {ratio} |")


def _people(roster: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """The roster (with its cohort columns) and each person's year-1 action and landing state."""
    return roster.merge(actions[["employee_id", "action", "to_unit", "to_sequence", "to_tier", "to_grade"]],
                        on="employee_id")


if __name__ == "__main__":
    main()
