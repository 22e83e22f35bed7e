"""The plan folder's contract: every file a solve writes, each CSV column with its type, unit and meaning, which
kind of plan writes it, and the keys of ``summary.json``.

This module is the one place the plan folder is described. The plan writer (:mod:`optimizer.pipeline`,
:mod:`optimizer.plan.results`), the one reader (:mod:`optimizer.plan.reader`, used by the verifiers, the
reports, ``compare``, ``sweep`` and the CLI) and docs/outputs.md (:func:`render_outputs_reference`) all
follow it. Two kinds of plan write a folder: :data:`GRADED` plans solved from input tables write every file;
:data:`LADDER` plans of a scenario with its own ladder (``categories.levels``) write ``headcount.csv``,
``flows.csv``, ``requirements.csv``, ``summary.json`` and the reports. A CSV file holds exactly its declared
columns, in the declared order.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.plan.folders import MARKER

__all__ = ["ALL_TABLES", "GRADED", "INT", "LADDER", "NUM", "PLAN_FILES", "SUMMARY_KEYS", "TABLES", "TEXT", "Column", "Key",
           "PlanFile", "columns", "render_outputs_reference", "schema"]

TEXT, INT, NUM = "text", "int", "num"
"""Column types: text (UTF-8, formula-marked, :mod:`optimizer.plan.safe_text`), whole numbers, decimals."""
GRADED, LADDER = "graded", "own-ladder"
"""Plan kinds: solved from input tables; of a scenario with its own ladder (``categories.levels``)."""
BOTH = (GRADED, LADDER)


@dataclass(frozen=True)
class Column:
    """One CSV column: ``name``, type (:data:`TEXT`, :data:`INT`, :data:`NUM`), ``unit`` and ``meaning``."""

    name: str
    kind: str
    unit: str
    meaning: str


@dataclass(frozen=True)
class PlanFile:
    """One file of the plan folder: its ``name``, the plan ``kinds`` that write it, what it holds (``about``,
    Markdown) and, for a CSV file, its ``columns`` in order."""

    name: str
    kinds: tuple[str, ...]
    about: str
    columns: tuple[Column, ...] = ()
    command: str = "solve"
    """The command that writes the file: ``solve`` (and ``demo``), or ``simulate`` (added later, optional)."""

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Key:
    """A key of ``summary.json``: its ``meaning``, the plan ``kinds`` that write it (None: as its parent, all for a
    top-level key) and its fixed nested ``keys`` (none: a value, a list or a mapping whose keys are data)."""

    name: str
    meaning: str
    kinds: tuple[str, ...] | None = None
    keys: tuple[Key, ...] = ()

    def written_by(self, parent: tuple[str, ...] = BOTH) -> tuple[str, ...]:
        """The plan kinds that write this key (those of its parent when it names none)."""
        return parent if self.kinds is None else self.kinds


def _state(prefix: str, when: str) -> tuple[Column, ...]:
    """The four columns of a state (unit, sequence, tier, grade) named ``<prefix>unit`` …; empty ``when``."""
    return (
        Column(f"{prefix}unit", TEXT, "—", f"unit id ({when}: empty)"),
        Column(f"{prefix}sequence", TEXT, "—", f"management | technical | operations ({when}: empty)"),
        Column(f"{prefix}tier", INT, "tier", f"tier ({when}: empty)"),
        Column(f"{prefix}grade", INT, "grade", f"grade within the tier ({when}: empty)"),
    )


YEAR = Column("year", INT, "year", "0 = the roster, t = the end of plan year t")
FLOW_YEAR = Column("year", INT, "year", "the plan year 1..H whose flows these are")


def _money(name: str, meaning: str) -> Column:
    return Column(name, NUM, "CNY", meaning)


ACTIONS = PlanFile("actions.csv", (GRADED,), (
    "Every roster employee exactly once (year 1), plus one row per planned year-1 hire (`employee_id` = "
    "`HIRE-<unit>-<n>`, empty from-state, `old_salary` empty). `redundancy` rows have an empty to-state and "
    "`new_salary`. `old_salary` is the roster's `salary` (pay(from-state) in year 0 where the roster has none); "
    "`new_salary` follows the pay rule: pay(to-state) at the unit's pay coefficient of year 1 + (old_salary − "
    "pay(from-state) in year 0): the person's premium over the pay table travels with them, a year-1 review "
    "changes the table part only (docs/decisions.md, \"Pay after an action\"); a hire gets pay(to-state) in "
    "year 1."), (
    Column("employee_id", TEXT, "—", "roster id, or `HIRE-<unit>-<n>` for a planned hire"),
    Column("name", TEXT, "—", "the employee's name from the roster (empty for hires and where the roster has none)"),
    Column("year", INT, "year", "1: the plan names people in its first year only"),
    Column("action", TEXT, "—", "stay | grade_step | tier_promotion | sequence_move | unit_transfer | downgrade | "
                                "redundancy | hire"),
    *_state("from_", "hire"),
    *_state("to_", "redundancy"),
    _money("old_salary", "the roster's salary, else pay(from-state) in year 0 (hire: empty)"),
    _money("new_salary", "pay(to-state) in year 1 + old_salary − pay(from-state) in year 0; hire: pay(to-state) in "
                         "year 1 (redundancy: empty)"),
    Column("from_unit_name", TEXT, "—", "name of from_unit (units table; hire: empty)"),
    Column("to_unit_name", TEXT, "—", "name of to_unit (units table; redundancy: empty)"),
    Column("reason", TEXT, "—", "why this action, in words: the person's rank among the eligible of their "
                                "position (unit, sequence, tier, grade) for the action, or the line they stay "
                                "below, or the stated rule that held them back (`merit.csv`)"),
))
HEADCOUNT = PlanFile("headcount.csv", BOTH, "Years 0..H, the states with a non-zero headcount.", (
    YEAR,
    Column("unit_id", TEXT, "—", "unit id"),
    Column("sequence", TEXT, "—", "management | technical | operations"),
    Column("tier", INT, "tier", "tier"),
    Column("grade", INT, "grade", "grade within the tier"),
    Column("headcount", NUM, "heads", "people in the state (expected value from year 1)"),
))
FLOWS = PlanFile("flows.csv", BOTH, (
    "Year t's flows take the stock of year t−1 to year t: `headcount(σ,t) = headcount(σ,t−1) − Σ flows out of "
    "σ in year t + Σ flows into σ in year t`. A `hire` has an empty from-state, `redundancy` and `attrition` an "
    "empty to-state. Only non-zero flows are listed."), (
    FLOW_YEAR,
    Column("kind", TEXT, "—", "grade_step | tier_promotion | sequence_move | unit_transfer | downgrade | hire | "
                              "redundancy | attrition"),
    *_state("from_", "hire"),
    *_state("to_", "redundancy, attrition"),
    Column("count", NUM, "heads", "people moved (year-1 decisions whole, attrition expected)"),
))
BUDGET = PlanFile("budget.csv", (GRADED,), (
    "Years 0..H, one row per unit and one `ALL` row per year (the group total: never add it to the unit rows); "
    "`cap` is filled on `ALL` rows of years ≥ 1 and on the rows of units with a cap of their own "
    "(`budget.unit_growth`, the units table's `budget_cap`); "
    "`overmanning_cost` and `short_time_cost` on `ALL` rows only (0 without requirements).\n"
    "- table_payroll(t) = Σ_σ pay(σ,t)·headcount(σ,t); pay(σ,t) = base_salary(sequence, tier, grade) ×\n"
    "  pay_coefficient of the unit in year t (from `units.csv`): what the plan's people cost on the pay table\n"
    "  (year 0: the structural payroll).\n"
    "- payroll(t) = table_payroll(t) + R(u,t), R the people's pay above the table in CNY (0 without `salary`;\n"
    "  a review of a unit's grade changes the table part only): R(u,0) = Σ (salary − pay(σ,0)) of the roster, so\n"
    "  payroll(0) = Σ salary; R(u,1) = Σ (new_salary − pay(to-state,1)) of the year-1 `actions.csv` rows landing\n"
    "  in u − Σ_{σ ∈ u} year-1 attrition(σ) × r̄_σ (r̄_σ the roster's mean salary − pay(σ,0) in σ, 0 where σ had\n"
    "  nobody); R(u,t) = R(u,t−1)·(1 − ā_u) for t ≥ 2, ā_u the roster's mean attrition rate in u. So\n"
    "  payroll(u,1) = Σ new_salary of the actions landing in u − Σ_{σ ∈ u} attrition(σ,1) × (pay(σ,1) + r̄_σ):\n"
    "  year 1 reconciles with the named people.\n"
    "- hiring_cost = hires × `hiring.cost.<sequence>` (charged to the hiring unit).\n"
    "- retraining_cost = the one-off cost of moves: operations → technical moves × `mobility.retraining_cost`,\n"
    "  management ↔ technical moves × `mobility.move_cost`, unit transfers × `mobility.transfer_cost`,\n"
    "  downgrades × `mobility.downgrade.cost` (charged to the destination unit).\n"
    "- redundancy_cost = Σ redundancies × `redundancy.cost_factor` × pay(from state, t) (charged to the unit\n"
    "  left).\n"
    "- total = payroll + hiring_cost + retraining_cost + redundancy_cost; budget: total ≤ cap on every row with a\n"
    "  cap; cap(ALL, t) = payroll(ALL, 0)·(1 + `budget.growth`)^t (or `budget.caps`), cap(u, t) = the units table's\n"
    "  `budget_cap`, else payroll(u, 0)·(1 + `budget.unit_growth`)^t.\n"
    "- overmanning_cost(ALL, t) = Σ over the `requirements.csv` rows of year t of the requirement's\n"
    "  `overmanning_cost` × overmanning; short_time_cost likewise with `short_time_cost` × short_time. These\n"
    "  slack costs of `requirements.mode: exact` are outside `total` and the cap (the model's budget row does not\n"
    "  hold them) but inside the `cost` goal: objective.cost = Σ_{t=1..H} (total + overmanning_cost +\n"
    "  short_time_cost) of the `ALL` rows."), (
    YEAR,
    Column("unit_id", TEXT, "—", "unit id, or `ALL` for the group"),
    Column("unit_name", TEXT, "—", "the unit's name (units table), or `group total`"),
    _money("payroll", "table_payroll + the people's pay above the table (year 0: Σ salary)"),
    _money("table_payroll", "Σ pay(σ)·headcount (year 0: the structural payroll)"),
    _money("red_circled_payroll", "the part of table_payroll paid to people above their unit's lowered tier cap at "
           "the coefficient they keep (a grade change does not move it)"),
    _money("hiring_cost", "one-off cost of the year's hires"),
    _money("retraining_cost", "one-off cost of the year's moves, transfers and downgrades"),
    _money("redundancy_cost", "one-off cost of the year's redundancies"),
    _money("total", "payroll + hiring_cost + retraining_cost + redundancy_cost"),
    _money("cap", "the budget cap (`ALL` rows of years ≥ 1, and units with a cap of their own)"),
    _money("overmanning_cost", "cost of the year's overmanning (`ALL` rows only)"),
    _money("short_time_cost", "cost of the year's short time (`ALL` rows only)"),
))
MIX = PlanFile("mix.csv", (GRADED,), (
    "Years 0..H, one row per sequence; `lower`/`upper` = target ∓ `mix.tolerance`, filled from the deadline "
    "year on (the band applies from then), empty before."), (
    YEAR,
    Column("sequence", TEXT, "—", "management | technical | operations"),
    Column("headcount", NUM, "heads", "people in the sequence"),
    Column("share", NUM, "share", "headcount / the year's total headcount"),
    Column("target", NUM, "share", "`mix.target` of the sequence"),
    Column("lower", NUM, "share", "lowest share allowed (empty before the deadline)"),
    Column("upper", NUM, "share", "highest share allowed (empty before the deadline)"),
))
UNITS = PlanFile("units.csv", (GRADED,), (
    "One row per unit of the input `units` table and year 0..H: the unit's grade path. Year 0 is the units "
    "table's grade (fixed, or computed from the scores); a unit is reviewed every `unit_grading.review_cycle` "
    "years after its `last_review` (units table, default 0), and at a review inside the horizon its grade comes "
    "from the review's projected scores or grade (`unit_grading.reviews`), else from its unchanged scores; it "
    "holds until the next review. People already above a lowered `max_tier` keep their tier and pay; no one "
    "new lands there."), (
    YEAR,
    Column("unit_id", TEXT, "—", "unit id"),
    Column("name", TEXT, "—", "the unit's name (units table)"),
    Column("score", NUM, "points", "the weighted criteria score of the unit's last review (may be rounded to 4 "
                                   "decimals)"),
    Column("grade", TEXT, "—", "the unit's grade that year (A, B, …)"),
    Column("pay_coefficient", NUM, "factor", "multiplies base salaries in the unit that year"),
    Column("max_tier", INT, "tier", "the highest technical tier the unit may receive people on that year: no "
                                    "promotion, move, transfer or hire of that year may land above it"),
))
REQUIREMENTS = PlanFile("requirements.csv", BOTH, (
    "One row per requirement of `requirements.demand` and year it names (only the header when there is none); "
    "headcount = Σ `headcount.csv` of the states it selects (its unit, sequence and tiers; absent: any; in an "
    "own-ladder plan its categories). `exact`: headcount − overmanning − (1−φ)·short_time = required "
    "(φ = `requirements.short_time_fraction`); `minimum`: headcount ≥ required, overmanning = short_time = 0."), (
    Column("requirement", TEXT, "—", "the requirement's name"),
    Column("year", INT, "year", "the year it applies to"),
    Column("required", NUM, "heads", "the heads required"),
    Column("headcount", NUM, "heads", "the heads the plan has there"),
    Column("overmanning", NUM, "heads", "heads above the requirement"),
    Column("short_time", NUM, "heads", "heads working short time"),
    _money("cost", "`overmanning_cost`·overmanning + `short_time_cost`·short_time"),
))
MERIT = PlanFile("merit.csv", (GRADED,), (
    "One row per position (unit, sequence, tier, grade) and year-1 action taken there (its kind and landing "
    "state): the merit line a unit head sees. The eligible are the position's people whose seniority and "
    "qualification allow the action (`promotion.min_years_for_grade_step`, `promotion.min_years_in_grade`, "
    "`technical_eligible` for operations → technical), ranked by performance (desc), years in grade (desc), "
    "employee_id (asc). Promotions, grade steps, moves and transfers go to the best eligible, redundancies and "
    "downgrades to the weakest; an eligible person who stays on the wrong side of the line is an exception, "
    "allowed only where a stated rule holds them back: at most ⌊(1−a)·n⌋ of a cohort of n people (state, "
    "seniority bucket, qualification; a its attrition rate) act in year 1, its expected leavers being held "
    "back (docs/model.md, `add_outflow_availability`; under `flow_convention: decide_then_attrition` all n may "
    "act)."), (
    *(Column(c, t, u, m) for c, t, u, m in (
        ("unit_id", TEXT, "—", "unit id"), ("sequence", TEXT, "—", "management | technical | operations"),
        ("tier", INT, "tier", "tier"), ("grade", INT, "grade", "grade within the tier"))),
    Column("action", TEXT, "—", "grade_step | tier_promotion | sequence_move | unit_transfer | downgrade | "
                                "redundancy"),
    *_state("to_", "redundancy"),
    Column("eligible", INT, "heads", "people of the position eligible for the action"),
    Column("acted", INT, "heads", "people who took it"),
    Column("acted_performance", NUM, "points", "the line: the lowest performance among those who took it (the "
                                               "highest for redundancies and downgrades)"),
    Column("stayer_performance", NUM, "points", "the highest performance among the eligible who stay (the "
                                                "lowest for redundancies and downgrades); empty when none stays"),
    Column("exceptions", INT, "heads", "eligible people who stay on the wrong side of the line, each held back "
                                       "by the cohort limit (their `reason` in actions.csv says so)"),
))
MARK = PlanFile(MARKER, BOTH, (
    'Says that wfplan wrote the folder: `{"kind": "plan"}`. wfplan replaces an existing folder only when it '
    "holds this file with the same kind (a plan over a plan); any other folder is refused before solving "
    "(`optimizer/plan/folders.py`). Sweep, frontier, comparison, generated-data and demo folders hold it too, "
    "with their own kind."))
SUMMARY = PlanFile("summary.json", BOTH, "The run's outcome, its settings and the checks; keys below.")
REFERENCE = PlanFile("reference.npz", (GRADED,), (
    "The solved model reduced to what a later what-if needs to reuse this plan (`wfplan solve --reference "
    "PLAN_DIR`, `optimizer/solvers/reuse.py`): variable bounds and integrality, the rows (ranges and coefficients "
    "as a sparse matrix), a digest of all names and one of the goals, the objective and solver settings, the "
    "stages, the model's solution vector, the written plan's when merit solved the later years again "
    "(`optimizer/plan/merit.py`), and the names and values of the year-1 flows (a what-if that is solved "
    "again keeps them where it can: the `stability` stage). NumPy `.npz`, no pickled objects; about 12 bytes per coefficient, "
    "24 per row and 25 per variable (14 MB for 100,000 employees)."))
WORKBOOK = PlanFile("report.xlsx", BOTH, (
    "Written from the files above alone. Graded plans: the sheets Summary (with the diagnosis in sentences, one a "
    "row, when there is one), Budget (`budget.csv` with headroom = "
    "cap − total, `overmanning_cost` and `short_time_cost` included), Requirements (`requirements.csv`; only "
    "when it has rows), Mix, Headcount, Actions, Merit (`merit.csv`), Flows, Units (`units.csv`), Grades (each "
    "unit's grade by year, then every grade change with the unit's payroll in the years it holds, with and "
    "without it: `optimizer/plan/grades.py`) and Scenario (the diagnosis as it is in "
    "`summary.json` too). Own-ladder plans: Summary, "
    "Requirements, Headcount, Flows, Costs and Scenario. After `wfplan simulate`, graded plans also have the sheet "
    "Simulation (`simulation.csv` and its fan charts: the 5 %, median and 95 % lines of each sequence's share with "
    "its band, and of the total with the cap)."))
PAGE = PlanFile("report.html", BOTH, (
    "Written from the files above alone, one self-contained page. Graded plans: status and targets, the "
    "diagnosis (its sentences, then every number of it in a collapsed block), the mix path, the budget against "
    "the cap (the slack costs stacked hatched on top, outside the "
    "cap, when any is non-zero), requirements against headcount (a table and a chart; only when "
    "`requirements.csv` has rows), tier pyramids, the merit lines (`merit.csv`, in a collapsed table), the flows "
    "and the units (each unit's grade path, and the grade changes with their cost, as in the workbook's Grades "
    "sheet). Own-ladder plans: headcount by "
    "category and year, requirements against headcount with overmanning and short time, the flows and the cost "
    "by year and part (the last row is `objective.cost`); both reports state that there are no per-person "
    "actions.") + " After `wfplan simulate`, both reports also show the simulation: the probability that every "
    "band and the cap hold, per year, and fan charts (the 5–95 % range and the median of each sequence's share "
    "against its band, of the total against the cap; docs/simulation.md).")
SIMULATION_JSON = PlanFile("simulation.json", (GRADED,), (
    "Only after `wfplan simulate PLAN_DIR` (docs/simulation.md): the plan under binomial attrition, R "
    "repetitions. Keys: `reps`, `seed`, `chunk_reps` (repetitions per seeded chunk), `seconds`, `p_mix_met` "
    "(every band held in every year it applies), `p_budget_held` (every year's cap held), `p_all_met` (both), "
    "`standard_error` (of `p_all_met`, √(p(1−p)/R)), and `years`: per year 1..H `{year, mix_applies, "
    "p_mix_met` (null before the deadline)`, p_budget_held, sequences: {<sequence>: {p_in_band, lower, upper, "
    "plan_share, share: {p05, p50, p95}, headcount: {plan, p05, p50, p95}}}, headcount: {plan, p05, p50, p95}, "
    "payroll: {plan, p05, p50, p95}, total: {plan, cap, p05, p50, p95}}`. Quantiles are of the repetitions' "
    "values (numpy's linear interpolation); `plan` is the plan's own (expected) value. Same plan, same seed, "
    "same `reps`: the same numbers, however many processes ran them."), command="simulate")
SIMULATION_CSV = PlanFile("simulation.csv", (GRADED,), (
    "Only after `wfplan simulate`: `simulation.json` as a table, one row per year and measure."), (
    Column("year", INT, "year", "the plan year 1..H"),
    Column("measure", TEXT, "—", "share | headcount (per sequence, and of the group as `ALL`) | payroll | total "
                                 "(payroll + one-off costs) | mix (only `probability`: every band held)"),
    Column("sequence", TEXT, "—", "management | technical | operations | ALL"),
    Column("plan", NUM, "as measure", "the plan's value (empty for `mix`)"),
    Column("p05", NUM, "as measure", "5 % quantile over the repetitions"),
    Column("p50", NUM, "as measure", "median"),
    Column("p95", NUM, "as measure", "95 % quantile"),
    Column("probability", NUM, "share", "share rows: the share lies in its band; total: total ≤ cap; mix: every "
                                        "band holds (empty where nothing applies)"),
), command="simulate")

PLAN_FILES: tuple[PlanFile, ...] = (ACTIONS, HEADCOUNT, FLOWS, BUDGET, MIX, UNITS, REQUIREMENTS, MERIT, SUMMARY,
                                    REFERENCE, WORKBOOK, PAGE, MARK, SIMULATION_JSON, SIMULATION_CSV)
"""Every file of a plan folder, in the order docs/outputs.md lists them."""
ALL_TABLES: dict[str, PlanFile] = {file.stem: file for file in PLAN_FILES if file.columns}
"""Every CSV file by name without ``.csv``, those ``wfplan simulate`` adds included."""
TABLES: dict[str, PlanFile] = {name: file for name, file in ALL_TABLES.items() if file.command == "solve"}
"""The CSV files a solve writes, by name without ``.csv``."""


def columns(name: str) -> list[str]:
    """The columns of ``name``.csv, in order."""
    return [column.name for column in ALL_TABLES[name].columns]


def schema(name: str) -> dict[str, str]:
    """``column → type`` of ``name``.csv, in column order."""
    return {column.name: column.kind for column in ALL_TABLES[name].columns}


def _stage_keys() -> tuple[Key, ...]:
    return (
        Key("term", "the objective term this stage minimises: a goal of `objective.order` (`mix`, `cost`, "
                    "`disruption`, `redundancy`) or `weighted`; `stability` when a `--reference` plan was "
                    "not reused, after the last goal but `disruption` (last in `weighted` mode): its objective "
                    "is the number of people whose year-1 cohort flow changed against the reference, "
                    "Σ_a |f[a,1] − f_ref[a,1]|, with the goals before it fixed (docs/whatif.md); a graded "
                    "plan's `disruption` tie-break then comes in `merit.stages`, with year 1 fixed"),
        Key("status", "the stage's solver status"),
        Key("objective", "the term's value"),
        Key("bound", "the solver's bound on it, or a bound known apart from the solver where that is higher (a stage "
                     "stopped before its root relaxation: the pooled relaxation's, or the linear relaxation's solved "
                     "beside it; `note` and `bound_source` then say so)"),
        Key("gap", "relative gap between the two"),
        Key("seconds", "the stage's solve time"),
        Key("note", "how the stage was solved, when unusual (reused; proven by the reference's bound; 0 reached "
                    "by the next stage; bound: the pooled or the linear relaxation)"),
        Key("stopped_by", '"time_limit" | "node_limit" | "gap" | "other_limit": the limit that stopped the stage '
                          'short of proven; null when the solver finished'),
        Key("bound_source", "where `bound` comes from when it beats the stage's solver's own: \"the pooled "
                            "relaxation (every unit in one)\" (a graded group's mix stage), \"the linear relaxation, "
                            "solved beside the search\" (a large model's stage stopped before its root); null: the "
                            "solver's (always in `merit.stages`)"),
    )


SUMMARY_KEYS: tuple[Key, ...] = (
    Key("status", '"optimal" | "feasible" (stopped at the time limit or gap with a plan) | "target_missed" '
                  '(closest plan written) | "infeasible" | "no_solution"; "not_solved" with `--save-lp`'),
    Key("exit_code", "0 | 3 | 4 (README.md, exit codes); own-ladder plans: 0, or 4 with only summary.json written"),
    Key("targets_met", "true when every mix band and budget cap holds (own-ladder plans: always true)"),
    Key("goal_deviations", "the missed targets only; both lists empty when targets_met", (GRADED,), (
        Key("mix", "[{year, sequence, share, lower, upper, shortfall}]"),
        Key("budget", "[{year, unit_id, total, cap, overrun}]: unit_id `ALL` for the group cap, else the unit's own"),
    )),
    Key("objective", "the objective terms of the written plan", None, (
        Key("mix", "heads outside the band summed over sequences and years ≥ deadline", (GRADED,)),
        Key("budget_overrun", "Σ_t max(0, total − cap)(ALL, t) (CNY)", (GRADED,)),
        Key("cost", "graded: Σ_{t=1..H} (total + overmanning_cost + short_time_cost)(ALL, t) (CNY); own-ladder: "
                    "see the own-ladder checks"),
        Key("disruption", "graded: tier promotions, sequence moves, unit transfers, downgrades and redundancies "
                          "over the horizon (a downgrade changes the person's job, as a promotion does); "
                          "own-ladder: retraining, downgrades and redundancies"),
        Key("redundancy", "Σ redundancies", (LADDER,)),
    )),
    Key("counts", "year-1 actions by kind (stay, grade_step, …), as counted in actions.csv", (GRADED,)),
    Key("merit", "merit across each position (`optimizer/plan/merit.py`; docs/decisions.md, \"Merit across a "
                 "position\"; `merit.csv`)", (GRADED,), (
        Key("resolved", "true when the later years were solved again with year 1 fixed: the merit split of "
                        "year 1 differed from the model's and the solved later years did not fit it, or the "
                        "solve left its disruption tie-break to this one (a what-if with a reference)"),
        Key("people_moved", "people the merit split put in another cohort than the model's split"),
        Key("exceptions", "eligible people who stay on the wrong side of a merit line, each held back by a "
                          "stated rule (Σ `exceptions` of merit.csv: a person held back from two actions counts "
                          "twice)"),
        Key("stages", "only when resolved: the stages of the solve with year 1 fixed", None, _stage_keys()),
        Key("starved", "only when true: the solve with year 1 fixed found no plan in what the model's solve left "
                       "of `solver.time_limit` (or only its start, stopped by the limit and missing the targets by "
                       "more than half a person beyond the model's plan); the plan is the model's own: its later "
                       "years where they fit the merit split, else its year-1 split too (`unsolved`); `resolved` "
                       "stays false"),
        Key("within_positions", "only when true: the model's solve stopped a stage before its root relaxation (a "
                                "large group), so the later years were solved again within its plan's flows per "
                                "position (year, kind, from and to state; `optimizer/plan/merit.py` "
                                "`within_positions`), not over every flow"),
        Key("unsolved", "only when true: `starved`, and the model's later years do not fit the merit split, so "
                        "the plan is the model's own year-1 split, not dealt by merit across its cohorts "
                        "(`exceptions` counts who that passes over)"),
        Key("cost_of_merit", "only when the merit split differs from the model's: each goal after minus before "
                             "merit (≥ 0 up to the solver's tolerance; before merit is the model without it, a "
                             "relaxation; 0 when the solved later years still fit the merit split and are kept)"),
    )),
    Key("solver", "what the solver did", None, (
        Key("mode", "`lp` | `milp` (year-1 decisions whole: `solver.integer_year1`)"),
        Key("backend", "the solver backend"),
        Key("time_limit", "seconds for every solve of the run (`solver.time_limit`): the stages, merit's "
                          "re-solve and the diagnosis share it"),
        Key("gap", "the relative gap accepted"),
        Key("stages", "one entry per objective stage, in order", None, _stage_keys()),
        Key("deferred", "the goals left to merit's re-solve with year 1 fixed (their stages in `merit.stages`): "
                        "the `disruption` tie-break after a `--reference`'s `stability` stage, and every goal "
                        "after a stage stopped before its solver had a bound or that had it only in the time "
                        "of the goals after it (a large group, docs/decisions.md); empty when none"),
        Key("message", "the solver's message (empty when none)"),
        Key("reuse", "only with `--reference` (docs/whatif.md)", (GRADED,), (
            Key("reference", "the reference plan folder"),
            Key("reused", "true when its plan was taken without solving"),
            Key("reason", "why not (empty when reused)"),
            Key("start", "when solved: the plan the goals started from (\"the reference's plan holds\", \"the "
                         "reference's year 1 kept, the later years solved again\"), or why the reference's year 1 "
                         "could not be kept; empty when reused or when the constructive start was used "
                         "(`optimizer/whatif/anchored.py`)"),
        )),
    )),
    Key("model", "the size of the solved model", None, (
        Key("mode", "`lp` | `milp`", (LADDER,)),
        Key("variables", "columns"),
        Key("integer_variables", "integer columns"),
        Key("rows", "constraints"),
        Key("cohorts", "roster cohorts (state and seniority)", (GRADED,)),
        Key("states", "roster states", (GRADED,)),
        Key("employees", "roster employees", (GRADED,)),
    )),
    Key("inputs", "the input tables read", (GRADED,), (
        Key("path", "the data folder or workbook"),
        Key("hashes", "{employees, units, pay: sha256}"),
    )),
    Key("versions", "{wfplan, python, pulp, ortools, highspy, pandas, numpy}: the versions that ran"),
    Key("scenario", "the resolved scenario (every key, with `applied_overrides`): all verification needs"),
    Key("timings", "seconds per phase, keyed by phase", None, tuple(
        Key(phase, meaning, kinds) for phase, meaning, kinds in (
            ("load+validate", "reading and validating the input tables", (GRADED,)),
            ("cohorts", "grouping the roster into cohorts", (GRADED,)),
            ("build", "building the model", None),
            ("solve", "solving every stage", None),
            ("merit", "dealing year 1 by merit over each position", (GRADED,)),
            ("merit re-solve", "solving the later years again with year 1 fixed (`merit.resolved`)", (GRADED,)),
            ("diagnosis", "the diagnosis, when one is made", (GRADED,)),
            ("confidence", "the simulations of a plan to a confidence level (calibration and check)", (GRADED,)),
            ("plan", "turning the solution into the plan's tables", None),
            ("write", "writing the tables and summary.json", None),
            ("verify", "the independent verification", None),
            ("reports", "writing report.xlsx and report.html", None),
        ))),
    Key("verification", "the independent verifier's answer", None, (
        Key("ok", "true when every check passed"),
        Key("checks", "the checks run, in order"),
        Key("failures", "[{check, message}]"),
    )),
    Key("diagnosis", "only when a target is missed (exit 3) or the model is infeasible (exit 4), and the run was "
                     "asked for it (`wfplan solve` does unless `--no-diagnosis`); see below", (GRADED,)),
    Key("confidence", "only when the scenario sets `mix.confidence` or `budget.confidence` (docs/confidence.md)",
        (GRADED,), (
            Key("mix", "{level (null: not asked), achieved (share of the check's simulations in which every band held "
                       "in every year), standard_error, expected_value_plan (the same for the plan solved without "
                       "margins, on the same simulations), met (achieved ≥ level)}"),
            Key("budget", "the same for every year's cap"),
            Key("check", "{reps, seed}: the fresh simulations of the check (`simulation.check_reps`, "
                         "`simulation.seed` + 1)"),
            Key("rounds", "solves with margins made (0: none found a plan and the expected-value plan stands)"),
            Key("margins", "{z_mix, z_budget, mix: [{sequence, year, side, heads}], budget: [{year, amount}]}: what "
                           "the plan keeps inside each band side (heads) and under each cap (CNY)"),
            Key("cost", "{plan, expected_value_plan, difference, percent}: the `cost` goal (CNY over the horizon) of "
                        "the plan and of the expected-value plan: what the confidence costs"),
        )),
    Key("lp_file", "only with `--save-lp`: the model file written instead of solving (no plan folder; printed "
                   "by `--json`)"),
    Key("run", "the run this plan is recorded as in the run store (docs/registry.md); absent in a plan written "
               "without the store (`api.Plan.write`, sweep points: their run is `<sweep id>-p<point>`)", None, (
        Key("id", "the run id, `YYYYMMDD-HHMMSS-xxxxxx` (UTC start time and six random hex digits)"),
    )),
)
"""Every key ``summary.json`` may hold, in the order docs/outputs.md lists them."""

INTRO_TEXT = """\
# Plan output folder: the contract

<!-- Generated from optimizer/plan/contract.py by render_outputs_reference(); edit that module, not this file. -->

Every solve writes one folder. The files below are the public contract of the optimiser; the verifier (`wfplan verify PLAN_DIR DATA_DIR`) re-checks a plan from these files and
the input tables alone. A scenario with its own ladder (`categories.levels`) writes a smaller folder that
needs no input tables: see "Own-ladder plans" at the end. Numbers are plain decimals (`.`), text is UTF-8,
one header row. Text cells that start with `=`, `+`, `-`, `@`, tab or CR (after any leading `'`) are written
with one extra leading `'` so no spreadsheet takes them for a formula; readers strip exactly one
(`optimizer.plan.safe_text.restore_text`; `optimizer.plan.reader` reads every plan file so). A *state* is
(unit, sequence, tier, grade). Year 0 is the roster; years 1..H are the end of each plan year.
Headcounts of years ≥ 1 are expected values (attrition is an expected flow) and may be fractional;
year-1 decisions (every flow of year 1 except attrition) are whole numbers because they name people.
"""
"""The head of docs/outputs.md."""
DIAGNOSIS_TEXT = """\
### `diagnosis`
Computed by `optimizer/whatif/diagnosis.py` (its docstring has the method). Every number in it comes from a solve.
The terminal, `report.html` and `report.xlsx` word it alike (`optimizer/whatif/sentences.py`): one sentence per year of mix
misses, shares and points to 0.1, people whole (a mix miss under half a person is left out of the words, not out
of this key), money in M CNY to 0.1, relaxed rates to 2 decimals rounded toward `limit` (so they still suffice).
```
feasible        true: a plan was written and misses a target (exit 3); false: the hard rules conflict (exit 4)
missed          {"mix": [{year, sequence, share, lower, upper, shortfall, side ("below" | "above"),
                          points (= 100·shortfall), heads (= shortfall × that year's total headcount)}],
                 "budget": [{year, total, cap, overrun, percent_of_cap}],
                 "softened": [{constraint, side ("minimum" | "maximum"), limit, missed_by, unit}]}
                exit 3: the written plan's misses, "softened" empty. Exit 4: an elastic re-solve gives the hard
                rows (unit headcount bounds `unit_headcount[U,yT]`, `operations_floor[U,yT]`, promotion floors
                `floor_tier_promotion[...]` / `floor_grade_step[...]`) named slacks, minimises their sum, then
                the target miss: "softened" lists the rows that give way and by how much (people or
                promotions; `limit` as the inputs state it: a headcount, the floor share or rate), "mix" and
                "budget" what that closest plan would still miss. It is not written: it breaks a hard rule,
                so the exit code stays 4. null when even the elastic model found no plan in the time limit.
relaxations     one entry per key searched, those that restore every target first:
                {key, from, to, limit, restores, set, insufficient, undecided, probes, seconds}
                `to` is the smallest single change of `key` found that meets every target (null: none up to
                `limit`, the end of the key's valid range), to 3 significant digits (steps of 1e-5 below
                0.001), rounded so that it still suffices, and shown to suffice by a plan of the model (a
                solve's, or the probe's constructive start); `set` is the `--set` list that applies it;
                `insufficient` is the value closest to `to` (or to `limit`) shown not to restore the targets,
                by a solve or the pooled relaxation's bound (`from` when none was); `undecided` lists the values
                whose probes showed neither (taken as "not met"): stopped by the time limit, or, when the run's
                own mix stage stopped before its root relaxation (a search then solves in half the time left
                until one solve ends undecided), left to their start alone; the whole
                diagnosis ends by the run's deadline (`solver.time_limit` for every solve of the run), and the
                probes past it are undecided.
                Keys, when they apply and are not at the end of their range: promotion.tier_rate,
                mobility.operations_to_technical, mobility.management_to_technical,
                hiring.max_rate.technical|operations (hiring on), budget.growth (no explicit caps),
                mix.tolerance, mix.operations_floor, promotion.tier_rate_floor, promotion.grade_rate_floor
                (downward), hiring.enabled, redundancy.enabled, mobility.unit_transfers (switched on),
                mix.deadline (exit 3 only; past the horizon `set` also extends `horizon`), and, when the
                budget is missed, `unit_grading.reviews[unit=U,year=T].grade` for the 3 units of largest
                payroll whose first review within the horizon gives a grade above the lowest band (`from`
                that grade, `limit` the lowest band: one probe).
earliest_year   the earliest year from which the mix band can hold with every other target met (the `to`
                of mix.deadline; earlier years among its `undecided` were not decided, and the sentences say
                "by year"); null when not by year `earliest_year_limit` = horizon + 5 (both null on exit 4)
earliest_year_undecided  true when the time limit stopped the earliest-year search before an answer
                (`earliest_year` is then null without meaning "never")
search          {probes, workers, seconds}: the searches run in worker processes when one probe (a model
                build and the first stage's solve) is expected to take over 2 s; `workers` is their number,
                or the Dask scheduler's address when they ran on a cluster (`wfplan solve --scheduler`)
```
"""
"""The ``diagnosis`` key of summary.json."""
CHECKS_TEXT = """\
## Attrition (checked by the verifier)
`attrition`: flows.csv attrition of each state σ in year t = a_σ·(headcount(σ,t−1) − δ·Σ decided outflows(σ,t))
+ Σ over the decided inflows into σ of (1 − π)·count, a_σ = `attrition.rate` of σ's sequence and tier, by
`flow_convention`: `start_of_year` δ = 0, π = 1; `service_dependent` δ = 0, π = 1 − `attrition.first_year`
for recruits, 1 − `mobility.downgrade.wastage` for downgrades, 1 − a of the destination otherwise;
`decide_then_attrition` δ = 1 and π = 1 − a of the destination for every inflow (decisions act on the whole
start-of-year stock, then everyone leaves at the rate of the state they hold).

## Rate caps (checked by the verifier)
For every (unit, sequence, tier) and year t, with n = headcount(unit, sequence, tier, t−1):
tier promotions out ≤ `promotion.tier_rate`·n; grade steps out ≤ `promotion.grade_rate`·n; operations →
technical moves out ≤ `mobility.operations_to_technical`·n; management → technical ≤
`mobility.management_to_technical`·n; technical → management ≤ `mobility.technical_to_management`·n; unit
transfers out ≤ `mobility.transfer_rate`·n; downgrades out ≤ `mobility.downgrade.rate`·n; redundancies ≤
`redundancy.max_rate`·n. Hires into sequence s in year t ≤ `hiring.max_rate.<s>` × headcount(s, t−1) of the
whole group.

## Unit grades and tier caps (checked by the verifier)
`units`: `units.csv` lists every input unit for every year 0..H with the grade path recomputed from the units
table (scores, `grade`, `last_review`) and `unit_grading` (bands, `review_cycle`, `reviews`), and the band's
pay coefficient and max tier. `tier_caps`: no tier promotion, sequence move, unit transfer or hire of year t lands
on a technical tier above the destination unit's `max_tier` of year t; people who were there before keep their
tier. `payroll` prices every year at that year's coefficient.

## Landing grades (checked by the verifier)
`flow_rules`: a tier promotion, sequence move or downgrade lands on the lowest grade of its to-tier (`to_sequence`,
`to_tier`) whose base salary (`pay` table) is at least the base salary of its from-state, else on that tier's
top grade; so a downgrade to a tier whose every grade pays less lands on its top grade.

## Each person's action (checked by the verifier)
`optimizer/verify/people.py`, from each roster employee's row (state (u,s,k,g), `years_in_grade`,
`technical_eligible`) and the scenario, for the action `actions.csv` gives them:
- `eligibility`: a grade step needs years_in_grade ≥ `promotion.min_years_for_grade_step` and lands on
  (u,s,k,g+1) on the pay table (so g < 5); a tier promotion needs years_in_grade ≥ `promotion.min_years_in_grade`
  and lands on tier k+1; a sequence move lands on the tier of `mobility.mapping`, and operations → technical
  needs `technical_eligible`; promotions, moves and downgrades land on the pay rule's grade (below); a
  downgrade lands 1..`max_tiers_down` tiers lower; a transfer keeps sequence, tier and grade in another unit;
  no technical landing above the destination unit's `max_tier` of year 1; redundancies, transfers and downgrades only when
  the scenario enables them.
- `merit`: the cohort is recomputed from the roster (unit, sequence, tier, grade, seniority = ⌊min(years_in_grade,
  A)⌋ with A = max(`min_years_in_grade`, `min_years_for_grade_step`), qualified = `technical_eligible` and
  operations). Inside a cohort, people ranked by performance (desc), years_in_grade (desc), employee_id (asc)
  take actions in the order tier promotion, sequence move, grade step, unit transfer, stay, downgrade,
  redundancy: nobody gets an action later in that order than someone ranked below them (the verifier lists
  each person passed over). Everyone in a cohort may take the same actions; people whose action breaks an
  `eligibility` rule are left to that check.

## Pay, names and workload (checked by the verifier)
- `pay`: `old_salary` = the roster's `salary` to the cent (pay(from-state, 0) where blank); `new_salary` =
  pay(to-state, 1) + old_salary − pay(from-state, 0) (hire: pay(to-state, 1)); payroll(ALL, 0) = Σ roster salary to
  the cent; for every unit, payroll(u, 1) = Σ `new_salary` of the year-1 actions landing in u − Σ_{σ ∈ u} year-1
  attrition(σ) × (pay(σ, 1) + the roster's mean premium in σ). `payroll` recomputes every `budget.csv` row (`table_payroll` and the premium mass) on its own.
- `budget`: the caps of the `ALL` rows and of every unit with one (`budget.unit_growth`, the units table's
  `budget_cap`), and total ≤ cap on each, unless `goal_deviations.budget` lists the row (with its `unit_id`).
- `names`: `units.csv` `name`, `budget.csv` `unit_name` (`group total` on `ALL` rows), `actions.csv`
  `from_unit_name` / `to_unit_name` are the units table's names; `actions.csv` `name` is the roster's.
- `workload`: every unit, every year ≥ 1: headcount ≥ max(`min_headcount`, `workload.headcount` × its year-0
  headcount), ≤ `max_headcount`, operations headcount ≥ max(`min_operations`, `workload.operations` × its year-0
  operations headcount).

## summary.json against the files (checked by the verifier)
`summary`: objective.cost and objective.disruption recomputed from `budget.csv` and `flows.csv`; `counts` from
`actions.csv`; `targets_met` true exactly when `goal_deviations` lists nothing, and the deviations recomputed
from `mix.csv` and `budget.csv` (`mix`, `budget`); `status` "optimal" or "feasible" ⇔ targets_met true ⇔
exit_code 0, "target_missed" ⇔ targets_met false ⇔ exit_code 3; "optimal" only when every `solver.stages`
entry is optimal. A file that cannot be read (random bytes, not UTF-8, a truncated CSV, a cell not of its
column's type, summary.json that is not a JSON object) is a `files` finding.

## Requirements and flow caps (checked by the verifier)
`optimizer/verify/requirements.py`, the same checks for plans from input tables and own-ladder plans:
- `flow_caps`: for every cap of `requirements.caps` and year t it covers, F = Σ `flows.csv` counts of its
  `kinds` landing in its states (before in-year wastage): F ≤ `max_per_year`; F ≤ `max_share_of_destination`
  × Σ headcount(states, t) (the group after that year's flows).
- `requirements`: `requirements.csv` lists each requirement-year once, with the scenario's `required` and
  `headcount.csv`'s heads; the `exact` / `minimum` rule and the cost as above.
- `overmanning_cap`: Σ overmanning per year ≤ `requirements.overmanning_max`; `short_time_cap`: short_time ≤
  the requirement's `short_time_max`.

`budget.csv`'s `overmanning_cost` and `short_time_cost` are re-checked with the other budget columns
(`payroll`), and objective.cost against them (`summary`).
"""
"""What the verifier of graded plans checks beyond the columns' meaning."""
LADDER_TEXT = """\
## Own-ladder plans
A scenario with `categories.levels` (`docs/requirements.md`) has no input tables and no named people. Its
folder holds `headcount.csv` and `flows.csv` as above (a category i is the state (`categories.unit`,
`categories.sequence`, i, 1); flow kinds `tier_promotion` (retraining i → i+1), `downgrade`, `hire`,
`redundancy`, `attrition`), `requirements.csv`, `summary.json`, `report.xlsx` and `report.html`; there is
no `actions.csv`, `budget.csv`, `mix.csv` or `units.csv`.

`wfplan verify PLAN_DIR` (no DATA_DIR; given, it is not read) runs `optimizer/verify/ladder.py`, which
recomputes from these files alone, without the model code:
- `states`: every headcount and flow state is a category; headcount.csv lists a category once a year, for
  years 0..H, never below 0. `initial`: headcount(i, 0) = `strength`.
- `flow_rules`: known kind, year 1..H, count > 0, the states the kind needs; retraining i → i+1 only where i
  has `retraining`; downgrades only to a category of `downgrade_to`. `integer_year1`: with
  `solver.integer_year1`, year-1 flows other than attrition are whole numbers.
- `stock_flow`: headcount(i,t) = (1−w_i)·headcount(i,t−1) + Σ_in π·count − Σ_out count, with π = 1 under
  `start_of_year` and the in-year survival of `service_dependent` (1 − `first_year_wastage` for recruits,
  1 − w of the destination for retrainees, 1 − `categories.downgrade_wastage` for downgrades); Σ_out ≤
  (1−w_i)·headcount(i,t−1). Under `decide_then_attrition`: headcount(i,t) = (1−w_i)·(headcount(i,t−1) −
  Σ_out count) + Σ_in (1 − w of the destination)·count, Σ_out ≤ headcount(i,t−1). `attrition`: flows.csv
  attrition of i in year t = w_i·headcount(i,t−1) (w_i·(headcount(i,t−1) − Σ_out count) under
  `decide_then_attrition`) + the in-year losses of its inflows, so flows.csv balances as above.
- `recruitment_caps` (hires ≤ `recruit_max`), `retraining_caps` (≤ `max_per_year`, ≤
  `max_share_of_destination` × headcount of the destination after that year's flows).
- `flow_caps`, `requirements`, `overmanning_cap`, `short_time_cap`: as in "Requirements and flow caps" above.
- `objective`: cost = Σ_{t=1..H} (Σ wage·headcount + recruits × `recruit_cost` + retrained ×
  `retraining.cost` + downgraded × `downgrade_cost` + redundant × `redundancy_cost` of the category left
  + requirements.csv costs); redundancy = Σ redundancies; disruption = Σ retraining, downgrades and
  redundancies.
"""
"""Own-ladder plans: their files and their verifier's checks."""



def _cell(text: str) -> str:
    """``text`` as a Markdown table cell (its ``|`` escaped)."""
    return text.replace("|", "\\|")


def _key_rows(keys: tuple[Key, ...], prefix: str = "", parent: tuple[str, ...] = BOTH) -> list[str]:
    """One table row per key, nested keys under their dotted path (``[]``: in every entry of a list)."""
    rows = []
    for key in keys:
        name, kinds = f"{prefix}{key.name}", key.written_by(parent)
        rows.append(f"| `{name}` | {', '.join(kinds)} | {_cell(key.meaning)} |")
        rows += _key_rows(key.keys, f"{name}[]." if key.name == "stages" else f"{name}.", kinds)
    return rows


def _file_section(file: PlanFile) -> str:
    """A file's heading, who writes it, its prose and its columns (summary.json: its keys)."""
    by = "" if file.command == "solve" else f", by `wfplan {file.command}`"
    lines = [f"## `{file.name}`", f"Written by: {', '.join(file.kinds)} plans{by}.", "", file.about]
    if file.columns:
        lines += ["", "| column | type | unit | meaning |", "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.kind} | {c.unit} | {_cell(c.meaning)} |" for c in file.columns]
    if file is SUMMARY:
        lines += ["", "| key | plans | meaning |", "|---|---|---|", *_key_rows(SUMMARY_KEYS)]
        lines += ["", DIAGNOSIS_TEXT]
    return "\n".join(lines)


def render_outputs_reference() -> str:
    """docs/outputs.md: the contract above, as Markdown (a test keeps the file equal to this)."""
    parts = [INTRO_TEXT, *(_file_section(file) for file in PLAN_FILES), CHECKS_TEXT, LADDER_TEXT]
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"
