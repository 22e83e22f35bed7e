"""Scenario schema: a strict, immutable description of one planning problem.

Every key is declared here (``extra="forbid"``, frozen); :mod:`models.scenario_files` reads the YAML
files, follows ``extends:``, applies ``--set`` overrides and reports problems against this schema.

A scenario is one of two kinds, told apart by ``categories.levels``:

- ``graded``: planned from input tables (roster, units, pay table); reads ``data``, ``mix``, ``budget``,
  ``promotion``, ``mobility``, ``attrition``, ``hiring``, ``redundancy`` and ``unit_grading``;
- ``ladder``: a ladder of the scenario's own (``categories.levels``), no input tables; reads ``categories``.

Both read the other keys (``name``, ``horizon``, ``objective``, ``solver``, ``flow_convention``,
``requirements``, ...). A key only the other kind reads is an error that names the key and the kind
(:func:`kind_problems`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SEQUENCES: tuple[str, ...] = ("management", "technical", "operations")
Sequence = Literal["management", "technical", "operations"]
ScenarioKind = Literal["graded", "ladder"]
KIND_SECTIONS: dict[ScenarioKind, tuple[str, ...]] = {
    "graded": ("data", "mix", "budget", "workload", "promotion", "mobility", "attrition", "hiring", "redundancy",
               "unit_grading", "simulation"),
    "ladder": ("categories",),
}
"""Top-level keys only one kind of scenario reads; both kinds read every other key."""
KIND_LABELS: dict[ScenarioKind, str] = {
    "graded": "a graded scenario (planned from input tables)",
    "ladder": "an own-ladder scenario (categories.levels)",
}

MAX_HORIZON = 15
"""Most plan years a scenario may have (``horizon``)."""
MAX_TIER = 20
"""Highest tier of any ladder: a tier in a scenario, an own ladder's length and a tier of the input tables
(``models.tables``) lie in 1..MAX_TIER. Whether a tier lies on the ladder of its sequence depends on the pay
table (input data), which this schema does not see."""
MAX_THREADS = 64
"""Most solver threads a scenario may ask for (whatever the machine has)."""
MAX_TIME_LIMIT = 86_400.0
"""Longest time limit of a solve (all its stages), in seconds (one day)."""
MAX_SEED = 2**31 - 1
"""Largest solver seed: HiGHS ``random_seed`` and CBC ``randomSeed`` take 0..2³¹−1."""

Tier = Annotated[int, Field(ge=1, le=MAX_TIER)]
"""A tier of a ladder (1 is the lowest)."""
Year = Annotated[int, Field(ge=1, le=MAX_HORIZON)]
"""A plan year (1 is the first); whether it lies within ``horizon`` is a rule across keys."""
Share = Annotated[float, Field(ge=0, le=1)]
"""A rate, share or relative gap in 0..1."""
NonNegative = Annotated[float, Field(ge=0)]
"""An amount of money, heads or weight: ≥ 0."""


def raw_kind(raw: dict[str, Any]) -> ScenarioKind:
    """The kind of an unvalidated scenario mapping: ``ladder`` when it lists ``categories.levels``."""
    categories = raw.get("categories")
    return "ladder" if isinstance(categories, dict) and categories.get("levels") else "graded"


def _leaf_keys(value: Any, path: str) -> list[str]:
    if isinstance(value, dict) and value:
        return [leaf for key, child in value.items() for leaf in _leaf_keys(child, f"{path}.{key}")]
    return [path]


def kind_problems(raw: dict[str, Any]) -> list[str]:
    """One problem per key of ``raw`` that only the other kind of scenario reads (e.g. ``mix.operations_floor``
    in a scenario with ``categories.levels``, or ``categories.unit`` in one without)."""
    kind = raw_kind(raw)
    other: ScenarioKind = "graded" if kind == "ladder" else "ladder"
    problems = []
    for section in KIND_SECTIONS[other]:
        if section in raw:
            for key in _leaf_keys(raw[section], section):
                problems.append(f"'{key}' has no meaning for {KIND_LABELS[kind]}: only {KIND_LABELS[other]} reads it")
    return problems


class ScenarioError(ValueError):
    """A scenario file or override is invalid; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid scenario\n" + "\n".join(f"  - {p}" for p in problems))


class Strict(BaseModel):
    """Base of every scenario section: unknown keys are refused, values are immutable, and no number,
    wherever it sits (a key, a map's value, a list item), may be NaN or infinite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SequenceShares(Strict):
    management: float = Field(ge=0, le=1)
    technical: float = Field(ge=0, le=1)
    operations: float = Field(ge=0, le=1)

    def get(self, sequence: str) -> float:
        return float(getattr(self, sequence))


class SequenceRates(Strict):
    """A rate in 0..1 per sequence."""

    management: float = Field(default=0.0, ge=0, le=1)
    technical: float = Field(default=0.0, ge=0, le=1)
    operations: float = Field(default=0.0, ge=0, le=1)

    def get(self, sequence: str) -> float:
        return float(getattr(self, sequence))


class SequenceAmounts(Strict):
    """A non-negative amount of money per sequence."""

    management: float = Field(default=0.0, ge=0)
    technical: float = Field(default=0.0, ge=0)
    operations: float = Field(default=0.0, ge=0)

    def get(self, sequence: str) -> float:
        return float(getattr(self, sequence))


class Mix(Strict):
    """Target shares by sequence; from year ``deadline`` on, |share − target| ≤ tolerance."""

    target: SequenceShares = SequenceShares(management=0.05, technical=0.30, operations=0.65)
    tolerance: float = Field(default=0.005, ge=0, le=1, description="allowed |share − target|")
    deadline: int = Field(default=3, ge=1, le=MAX_HORIZON, description="first year the band must hold (≤ horizon)")
    operations_floor: float = Field(
        default=0.0, ge=0, le=1, description="minimum operations share inside every unit, every year"
    )
    confidence: float | None = Field(
        default=None, ge=0.5, lt=1,
        description="plan so that every band holds with at least this probability under binomial attrition, "
                    "e.g. 0.9 (absent: the expected-value plan; docs/confidence.md)",
    )

    @field_validator("target")
    @classmethod
    def _shares_sum_to_one(cls, target: SequenceShares) -> SequenceShares:
        total = target.management + target.technical + target.operations
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"target shares must sum to 1, got {total:.4f}")
        return target


class Budget(Strict):
    """cap(t) = payroll(0)·(1+growth)^t, or the explicit ``caps`` per year when given."""

    growth: float = Field(
        default=0.05, ge=-1, le=10,
        description="yearly growth of the cap over year-0 payroll (at most 10, ×11 a year: the cap stays finite)",
    )
    caps: dict[Year, NonNegative] | None = Field(
        default=None, description="explicit cap per year (CNY), replaces growth; one per year 1..horizon"
    )
    confidence: float | None = Field(
        default=None, ge=0.5, lt=1,
        description="plan so that every year's group cap holds with at least this probability under binomial "
                    "attrition (absent: the expected-value plan; docs/confidence.md)",
    )
    unit_growth: float | None = Field(
        default=None, ge=-1, le=10,
        description="each unit's own cap: its year-0 payroll × (1 + unit_growth)^t (absent: no unit caps but the "
                    "units table's budget_cap)",
    )


class Workload(Strict):
    """Workload floors: every unit keeps at least these shares of its year-0 headcount, every year t ≥ 1 (the units
    table's ``min_headcount`` and ``min_operations``, where higher, stand)."""

    headcount: float = Field(default=0.0, ge=0, le=1, description="least headcount of each unit, as a share of its year-0 headcount")
    operations: float = Field(
        default=0.0, ge=0, le=1, description="least operations headcount of each unit, as a share of its year-0 operations headcount"
    )


class Promotion(Strict):
    """Rate caps on the start-of-year stock of each (unit, sequence, tier)."""

    grade_rate: float = Field(default=0.30, ge=0, le=1, description="max grade steps / stock of (unit, sequence, tier)")
    tier_rate: float = Field(default=0.10, ge=0, le=1, description="max tier promotions / stock of (unit, sequence, tier)")
    tier_rate_floor: float = Field(
        default=0.0, ge=0, le=1, description="minimum tier promotions as a share of the eligible stock"
    )
    grade_rate_floor: float = Field(
        default=0.0, ge=0, le=1, description="minimum grade steps as a share of the eligible stock"
    )
    min_years_in_grade: int = Field(default=2, ge=0, le=10, description="years in grade before a tier promotion")
    min_years_for_grade_step: int = Field(default=1, ge=0, le=10, description="years in grade before a grade step")

    @model_validator(mode="after")
    def _floor_below_cap(self) -> "Promotion":
        if self.tier_rate_floor > self.tier_rate:
            raise ValueError(f"tier_rate_floor {self.tier_rate_floor} exceeds tier_rate {self.tier_rate}")
        if self.grade_rate_floor > self.grade_rate:
            raise ValueError(f"grade_rate_floor {self.grade_rate_floor} exceeds grade_rate {self.grade_rate}")
        return self


class TierMapping(Strict):
    """Landing tier of a lateral move, by tier of origin (tiers not listed cannot move)."""

    operations_to_technical: dict[Tier, Tier] = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3}
    management_to_technical: dict[Tier, Tier] = {1: 4, 2: 5, 3: 6, 4: 7}
    technical_to_management: dict[Tier, Tier] = {4: 1, 5: 1, 6: 2, 7: 3, 8: 4}


class Downgrade(Strict):
    """Downgrading (tables only): tier k → a lower tier of the same unit and sequence, on the landing grade."""

    enabled: bool = Field(default=False, description="allow downgrades")
    max_tiers_down: int = Field(
        default=1, ge=1, le=MAX_TIER - 1, description="landing tiers k−1 … k−max_tiers_down (≥ 1)"
    )
    rate: float = Field(default=0.05, ge=0, le=1, description="max downgrades / stock of (unit, sequence, tier)")
    cost: float = Field(default=0.0, ge=0, description="one-off, per person downgraded (CNY)")
    wastage: float = Field(
        default=0.0, ge=0, le=1,
        description="share of the downgraded who leave in the year of the downgrade (flow_convention: service_dependent)",
    )


class Mobility(Strict):
    """Lateral moves: caps as shares of the start-of-year stock of (unit, sequence, tier)."""

    operations_to_technical: float = Field(default=0.05, ge=0, le=1, description="max retraining moves / operations stock of (unit, tier)")
    management_to_technical: float = Field(default=0.10, ge=0, le=1, description="max moves / management stock of (unit, tier)")
    technical_to_management: float = Field(default=0.02, ge=0, le=1, description="max moves / technical stock of (unit, tier)")
    retraining_cost: float = Field(default=30000.0, ge=0, description="one-off, per operations → technical move")
    move_cost: float = Field(default=5000.0, ge=0, description="one-off, per management ↔ technical move")
    mapping: TierMapping = TierMapping()
    unit_transfers: bool = Field(default=False, description="allow moves between units (same sequence, tier, grade)")
    transfer_rate: float = Field(default=0.02, ge=0, le=1, description="max transfers out / stock of (unit, sequence, tier)")
    transfer_cost: float = Field(default=10000.0, ge=0, description="one-off, per transfer (CNY)")
    downgrade: Downgrade = Downgrade()


class Attrition(Strict):
    """Expected annual leaving rates by sequence; ``by_tier`` overrides them per sequence and tier."""

    management: float = Field(default=0.04, ge=0, le=1, description="expected yearly leaving rate")
    technical: float = Field(default=0.05, ge=0, le=1, description="expected yearly leaving rate")
    operations: float = Field(default=0.07, ge=0, le=1, description="expected yearly leaving rate")
    by_tier: dict[Sequence, dict[Tier, Share]] = Field(
        default={}, description="rate per sequence and tier, e.g. {technical: {1: 0.08}}"
    )
    first_year: dict[Sequence, Share] = Field(
        default={},
        description="leaving rate of recruits in their first year, per sequence, e.g. {operations: 0.2} "
                    "(flow_convention: service_dependent; absent: the ordinary rate)",
    )

    def rate(self, sequence: str, tier: int) -> float:
        return float(self.by_tier.get(sequence, {}).get(tier, getattr(self, sequence)))

    def first_year_rate(self, sequence: str, tier: int) -> float:
        """Leaving rate of a recruit into (sequence, tier) in the year of hiring."""
        return float(self.first_year.get(sequence, self.rate(sequence, tier)))


class Hiring(Strict):
    """External hires land on grade 1 of the entry tiers; yearly cap as a share of the sequence's stock."""

    enabled: bool = Field(default=True, description="allow external hires")
    entry_tiers: dict[Sequence, list[Tier]] = Field(
        default={"technical": [1, 2], "operations": [1]}, description="tiers hires may enter, per sequence (grade 1)"
    )
    max_rate: SequenceRates = Field(
        default=SequenceRates(management=0.0, technical=0.08, operations=0.03),
        description="max hires per year / group stock of the sequence",
    )
    cost: SequenceAmounts = Field(
        default=SequenceAmounts(management=40000, technical=20000, operations=8000),
        description="one-off cost per hire (CNY)",
    )


class Redundancy(Strict):
    """Off by default; cost = cost_factor × the person's annual pay."""

    enabled: bool = Field(default=False, description="allow redundancies")
    max_rate: float = Field(default=0.03, ge=0, le=1, description="max redundancies / stock of (unit, sequence, tier)")
    cost_factor: float = Field(default=1.0, ge=0, description="severance as a multiple of annual pay")


class GradeBand(Strict):
    name: str
    min_score: float = Field(ge=0, le=100)
    pay_coefficient: float = Field(gt=0)
    max_tier: Tier = Field(description="highest technical tier the unit may hold")


class ScoreWeights(Strict):
    strategic: float = Field(default=0.30, ge=0)
    efficiency: float = Field(default=0.30, ge=0)
    governance: float = Field(default=0.20, ge=0)
    innovation: float = Field(default=0.20, ge=0)

    @model_validator(mode="after")
    def _sum_to_one(self) -> "ScoreWeights":
        total = self.strategic + self.efficiency + self.governance + self.innovation
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1, got {total:.4f}")
        return self


DEFAULT_GRADES = [
    GradeBand(name="A", min_score=85, pay_coefficient=1.20, max_tier=8),
    GradeBand(name="B", min_score=70, pay_coefficient=1.10, max_tier=7),
    GradeBand(name="C", min_score=55, pay_coefficient=1.00, max_tier=6),
    GradeBand(name="D", min_score=0, pay_coefficient=0.90, max_tier=5),
]


class ReviewScores(Strict):
    """Projected scores of a unit at a review; a criterion left out keeps the unit's score before the review."""

    strategic: float | None = Field(default=None, ge=0, le=100)
    efficiency: float | None = Field(default=None, ge=0, le=100)
    governance: float | None = Field(default=None, ge=0, le=100)
    innovation: float | None = Field(default=None, ge=0, le=100)


class UnitReview(Strict):
    """The outcome of one unit's review inside the horizon: projected ``scores`` (graded by the bands), a
    ``grade`` given outright, or both (the grade decides; the scores are the unit's from then on). A review not
    listed keeps the unit's scores (docs/decisions.md)."""

    unit: str = Field(min_length=1, description="unit_id of the units table")
    year: Year = Field(description="plan year of the review: one of the unit's review years within the horizon")
    scores: ReviewScores | None = Field(default=None, description="projected scores (criteria left out: unchanged)")
    grade: str | None = Field(
        default=None, min_length=1, description="the grade outright (a band name; decides over scores)")

    @model_validator(mode="after")
    def _scores_or_grade(self) -> "UnitReview":
        if self.scores is None and self.grade is None:
            raise ValueError(f"review of unit '{self.unit}' in year {self.year} needs scores or a grade")
        return self


class UnitGrading(Strict):
    """score = Σ weight·score; grade = first band (by descending min_score) the score reaches.

    Units are reviewed every ``review_cycle`` years after their ``last_review`` (units table; default year 0);
    from a review year on, the unit's pay coefficient and tier cap are those of the grade of that review."""

    weights: ScoreWeights = ScoreWeights()
    grades: list[GradeBand] = DEFAULT_GRADES
    review_cycle: int = Field(default=3, ge=1, description="years between two reviews of a unit's grade")
    reviews: list[UnitReview] = Field(
        default=[],
        description="outcomes of reviews inside the horizon, each {unit, year, scores: {strategic, efficiency, "
                    "governance, innovation} (any of them; the others unchanged), grade} with scores or a grade "
                    "(a grade decides); year: one of the unit's review years (every review_cycle years after the "
                    "units table's last_review). --set unit_grading.reviews[unit=U,year=T].grade=A adds or "
                    "changes one",
    )

    @field_validator("grades")
    @classmethod
    def _bands_valid(cls, grades: list[GradeBand]) -> list[GradeBand]:
        names = [g.name for g in grades]
        if len(set(names)) != len(names):
            raise ValueError(f"grade names must be unique, got {names}")
        if not grades or min(g.min_score for g in grades) > 0:
            raise ValueError("the lowest grade band must start at min_score 0 so every unit gets a grade")
        return sorted(grades, key=lambda g: -g.min_score)

    @model_validator(mode="after")
    def _reviews_valid(self) -> "UnitGrading":
        names = [band.name for band in self.grades]
        problems, seen = [], set()
        for review in self.reviews:
            key = (review.unit, review.year)
            if key in seen:
                problems.append(f"reviews: unit '{review.unit}' has more than one review in year {review.year}")
            seen.add(key)
            if review.grade is not None and review.grade not in names:
                problems.append(f"reviews: grade '{review.grade}' of unit '{review.unit}' in year {review.year} "
                                f"is not a band of unit_grading.grades ({', '.join(names)})")
        if problems:
            raise ValueError("; ".join(problems))
        return self


Goal = Literal["mix", "cost", "disruption", "redundancy"]
"""Objective goals; ``redundancy`` (number of redundancies) is meant for requirement-driven scenarios."""


class Objective(Strict):
    """Goals: mix (band violation, heads), cost (money over the horizon), disruption (number of moves)."""

    mode: Literal["lexicographic", "weighted"] = Field(default="lexicographic", description="stages in order, or one weighted sum")
    order: list[Goal] = Field(
        default=["mix", "cost", "disruption"],
        description="goal priority (lexicographic mode); a scenario with `categories` may list any goals",
    )
    weights: dict[Goal, NonNegative] = Field(
        default={"mix": 1e6, "cost": 1.0, "disruption": 100.0}, description="goal weights (weighted mode)"
    )
    stage_tolerance: float = Field(default=1e-6, ge=0, le=1, description="relative slack when fixing a stage")
    stage_gap: dict[Literal["mix", "cost", "disruption"], Share] = Field(
        default={"disruption": 0.05},
        description="relative MIP gap per stage (stages not listed use solver.gap): the last tie-break need not "
                    "be proven; at 5% its root bound settles it, so where its search would stop never depends on "
                    "the clock",
    )
    stability_gap: float = Field(
        default=0.001, ge=0, le=0.1,
        description="with a reference plan (--reference, sweeps): a goal's stage keeps a start that keeps the "
                    "reference's year-1 actions when it is within this relative gap of the stage's bound (or the "
                    "stage's own gap, if larger); 0: only what the stage's gap allows",
    )

    @field_validator("order")
    @classmethod
    def _order_unique(cls, order: list[str]) -> list[str]:
        if not order or len(set(order)) != len(order):
            raise ValueError(f"order must list each goal once, got {order}")
        return order


class Simulation(Strict):
    """How a plan to a confidence level (``mix.confidence``, ``budget.confidence``) is calibrated and checked by
    simulation (docs/confidence.md); ``wfplan simulate`` takes its own ``--reps`` and ``--seed``."""

    check_reps: int = Field(default=10_000, ge=100, le=1_000_000, description="repetitions of the final check")
    calibration_reps: int = Field(
        default=4_000, ge=100, le=1_000_000, description="repetitions of each calibration round"
    )
    rounds: int = Field(default=3, ge=1, le=10, description="solves at most, each with wider margins than the last")
    seed: int = Field(
        default=1, ge=0, le=MAX_SEED,
        description="seed of the calibration; the check draws from seed + 1, fresh numbers the margins never saw",
    )


class Solver(Strict):
    backend: Literal["highs", "cbc", "scip", "cpsat"] = Field(default="highs", description="MILP solver")
    time_limit: float = Field(
        default=60.0, gt=0, le=MAX_TIME_LIMIT,
        description="seconds for every solve of a run: the stages, merit's re-solve, the stability stage and "
                    "the diagnosis (each stage gets an equal share of what is left, shares kept for the solves "
                    "after it; a stage that stops at it keeps its best plan, with its gap)",
    )
    node_limit: int | None = Field(
        default=None, ge=0,
        description="branch-and-bound nodes per stage (HiGHS, CBC, SCIP): a limit that stops at the same point "
                    "whatever the machine's load; none by default",
    )
    gap: float = Field(default=1e-4, ge=0, le=1, description="relative MIP gap to stop at")
    threads: int = Field(default=1, ge=1, le=MAX_THREADS, description="solver threads")
    seed: int = Field(
        default=0, ge=0, le=MAX_SEED, description="solver random seed (reproducible runs)"
    )
    integer_year1: bool = Field(
        default=True, description="year-1 flows are whole people (MILP); false solves the LP in expected headcounts"
    )


class RetrainingLimits(Strict):
    """Retraining (promotion) out of a category to the next one up: caps per year and a cost per person."""

    cost: float = Field(default=0.0, ge=0, description="one-off cost per person retrained")
    max_per_year: float | None = Field(default=None, ge=0, description="absolute cap per year")
    max_share_of_destination: float | None = Field(
        default=None, ge=0, le=1, description="cap as a share of the destination's strength after that year's flows"
    )


class Category(Strict):
    """One category of a scenario's own ladder: level ``tier`` of sequence ``categories.sequence``."""

    name: str
    strength: float = Field(ge=0, description="headcount at the start (year 0)")
    wastage: float = Field(default=0.0, ge=0, le=1, description="yearly leaving rate of people with ≥ 1 year's service")
    first_year_wastage: float | None = Field(
        default=None, ge=0, le=1, description="leaving rate of recruits in their first year (default: wastage)"
    )
    wage: float = Field(default=0.0, ge=0, description="cost per head and year (0: wages not modelled)")
    recruit_max: float = Field(default=0.0, ge=0, description="recruits per year at most (0: no recruitment)")
    recruit_cost: float = Field(default=0.0, ge=0, description="one-off cost per recruit")
    redundancy_cost: float = Field(default=0.0, ge=0, description="one-off cost per redundancy")
    retraining: RetrainingLimits | None = Field(default=None, description="retraining to the next category up (absent: none)")
    downgrade_to: list[str] = Field(default=[], description="lower categories people may be downgraded to")
    downgrade_cost: float = Field(default=0.0, ge=0, description="one-off cost per person downgraded")

    @property
    def survival_first_year(self) -> float:
        return 1.0 - (self.wastage if self.first_year_wastage is None else self.first_year_wastage)


class Categories(Strict):
    """A small ladder of the scenario's own, replacing the input tables and the pay/grade machinery.

    Category i (in the order listed, lowest first) is the state (unit, sequence, tier i, grade 1); with
    ``levels`` given, no input tables are read and the mix band, budget cap, rate and hiring caps are off.
    """

    unit: str = Field(default="group", description="the one unit the categories belong to")
    sequence: str = Field(default="skill", description="ladder name used as the states' sequence")
    levels: list[Category] = Field(
        default=[], max_length=MAX_TIER,
        description="the categories, lowest first (empty: no own ladder)",
    )
    downgrade_wastage: float = Field(
        default=0.5, ge=0, le=1, description="share of downgraded people who leave in the year of the downgrade"
    )

    @model_validator(mode="after")
    def _names_known(self) -> "Categories":
        names = [level.name for level in self.levels]
        if len(set(names)) != len(names):
            raise ValueError(f"category names must be unique, got {names}")
        for tier, level in enumerate(self.levels, start=1):
            for lower in level.downgrade_to:
                if lower not in names[: tier - 1]:
                    raise ValueError(f"{level.name} may only be downgraded to a lower category, got '{lower}'")
        return self

    def tier_of(self, name: str) -> int:
        return [level.name for level in self.levels].index(name) + 1

    def level(self, tier: int) -> Category:
        return self.levels[tier - 1]


class Selection(Strict):
    """A named group of states: one category, or the states of (unit, sequence, tiers)."""

    name: str = Field(description="label used in names and outputs")
    category: str | None = Field(default=None, description="a category of `categories.levels`")
    unit: str | None = Field(default=None, description="unit of the states (absent: every unit)")
    sequence: str | None = Field(default=None, description="sequence of the states (absent: every sequence)")
    tiers: list[Tier] | None = Field(default=None, description="tiers of the states (absent: every tier)")


class Requirement(Selection):
    """Headcount required per year in a group of states: one category, or (unit, sequence, tiers)."""

    headcount: dict[Year, NonNegative] = Field(description="required heads per year, e.g. {1: 420, 2: 510}")
    overmanning_cost: float = Field(default=0.0, ge=0, description="cost per head above the requirement and year")
    short_time_max: float = Field(default=0.0, ge=0, description="heads on short-time working per year at most")
    short_time_cost: float = Field(default=0.0, ge=0, description="cost per head on short time and year")


FlowKind = Literal["hire", "grade_step", "tier_promotion", "sequence_move", "unit_transfer", "downgrade"]


class FlowCap(Selection):
    """A yearly cap on the people that flows of the listed kinds bring into a group of states."""

    kinds: list[FlowKind] = Field(min_length=1, description="flows counted: those of these kinds landing in the group")
    years: list[Year] | None = Field(
        default=None, min_length=1, description="years the cap applies (absent: every year)"
    )
    max_per_year: float | None = Field(
        default=None, ge=0, description="people per year at most (before in-year wastage)"
    )
    max_share_of_destination: float | None = Field(
        default=None, ge=0, le=1, description="cap as a share of the group's strength after that year's flows"
    )

    @model_validator(mode="after")
    def _has_a_limit(self) -> "FlowCap":
        if self.max_per_year is None and self.max_share_of_destination is None:
            raise ValueError(f"cap '{self.name}' needs max_per_year or max_share_of_destination")
        return self


class Requirements(Strict):
    """Requirements by category and year, met exactly (overmanning and short time as slack) or as a minimum."""

    mode: Literal["exact", "minimum"] = Field(default="exact", description="exact: heads = requirement + slack; minimum: heads ≥ requirement")
    overmanning_max: float | None = Field(default=None, ge=0, description="heads above the requirements per year, in total (absent: no cap)")
    short_time_fraction: float = Field(default=0.5, ge=0, le=1, description="what one person on short time counts toward a requirement")
    demand: list[Requirement] = Field(default=[], description="the requirements (empty: none)")
    caps: list[FlowCap] = Field(
        default=[], description="caps on recruits, promotions, retraining, … into a group of states (empty: none)"
    )


class Scenario(Strict):
    name: str = Field(
        default="baseline", pattern=r"^\w[\w.-]{0,63}$",
        description="scenario name: letters, digits, '_', '-', '.', starting with a letter or digit, at most 64; "
                    "the default plan folder is runs/<name>",
    )
    description: str = Field(default="", description="free text shown in reports")
    extends: str | None = Field(default=None, description="another scenario file (relative path) this one overrides")
    data: str | None = Field(default=None, description="input tables folder or workbook (relative to the file)")
    horizon: int = Field(default=3, ge=1, le=MAX_HORIZON, description="plan years H")
    mix: Mix = Mix()
    budget: Budget = Budget()
    workload: Workload = Workload()
    promotion: Promotion = Promotion()
    mobility: Mobility = Mobility()
    attrition: Attrition = Attrition()
    hiring: Hiring = Hiring()
    redundancy: Redundancy = Redundancy()
    unit_grading: UnitGrading = UnitGrading()
    objective: Objective = Objective()
    solver: Solver = Solver()
    simulation: Simulation = Simulation()
    flow_convention: Literal["start_of_year", "service_dependent", "decide_then_attrition"] = Field(
        default="start_of_year",
        description="start_of_year: attrition on the start-of-year stock only, flows act on its stayers; "
                    "service_dependent: inflows waste too; decide_then_attrition: flows act on the whole "
                    "start-of-year stock, then everyone leaves at the rate of the state they hold (docs/model.md)",
    )
    categories: Categories = Categories()
    requirements: Requirements = Requirements()
    applied_overrides: list[str] = Field(default=[], description="filled by wfplan: every --set applied")

    @model_validator(mode="after")
    def _years_within_horizon(self) -> "Scenario":
        deadline = None if self.kind == "ladder" else self.mix.deadline  # an own ladder has no mix band
        reviews = [r.model_dump() for r in self.unit_grading.reviews]
        problems = year_problems(self.horizon, deadline, self.budget.caps, reviews)
        problems += self._requirement_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def kind(self) -> ScenarioKind:
        """``ladder`` when ``categories.levels`` replace the input tables and the pay/grade machinery, else
        ``graded``."""
        return "ladder" if self.categories.levels else "graded"

    def to_raw(self) -> dict[str, Any]:
        """The scenario as a plain mapping of the keys its kind reads, resolved (without ``extends``): what
        :func:`models.scenario_files.build_scenario` takes to build it again (with overrides)."""
        other: ScenarioKind = "graded" if self.kind == "ladder" else "ladder"
        return self.model_dump(exclude={"extends", *KIND_SECTIONS[other]})

    def _requirement_problems(self) -> list[str]:
        """Rules across keys: goals of the stage order, categories and years of requirements and caps,
        in-year wastage keys that only ``service_dependent`` reads."""
        problems = []
        if self.kind == "graded" and sorted(self.objective.order) not in (
            ["cost", "disruption", "mix"], ["cost", "disruption", "mix", "redundancy"]
        ):
            problems.append(f"objective.order must list mix, cost and disruption once each, got {self.objective.order}")
        names = {level.name for level in self.categories.levels}
        selections = [(s, list(s.headcount)) for s in self.requirements.demand]
        selections += [(s, s.years or []) for s in self.requirements.caps]
        for selection, years in selections:
            if selection.category is not None and selection.category not in names:
                problems.append(f"requirements: '{selection.name}' names unknown category '{selection.category}'")
            outside = sorted(t for t in years if not 1 <= t <= self.horizon)
            if outside:
                problems.append(f"requirements: '{selection.name}' has years {outside} outside 1..{self.horizon}")
        if self.flow_convention != "service_dependent":
            if self.attrition.first_year:
                problems.append("attrition.first_year needs flow_convention: service_dependent")
            if self.mobility.downgrade.wastage > 0:
                problems.append("mobility.downgrade.wastage needs flow_convention: service_dependent")
        return problems

    def budget_cap(self, year: int, base_payroll: float) -> float:
        if self.budget.caps is not None:
            return float(self.budget.caps[year])
        return base_payroll * (1.0 + self.budget.growth) ** year


def year_problems(horizon: Any, deadline: Any, caps: Any, reviews: Any = None) -> list[str]:
    """The rules across keys on years (``reviews``: the mappings of ``unit_grading.reviews``); a value that is
    not a whole number is left to its own check."""

    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    problems = []
    if whole(horizon) and whole(deadline) and deadline > horizon:
        problems.append(f"mix.deadline {deadline} is beyond the horizon {horizon}")
    if whole(horizon) and isinstance(caps, dict):
        given = {int(k) for k in caps if str(k).strip().lstrip("-").isdigit()}
        missing = [t for t in range(1, horizon + 1) if t not in given]
        if missing:
            problems.append(f"budget.caps has no cap for years {missing}")
        beyond = sorted(t for t in given if t > horizon)
        if beyond:
            problems.append(f"budget.caps has caps for years {beyond} beyond the horizon {horizon}")
    for review in reviews if whole(horizon) and isinstance(reviews, list) else []:
        year = review.get("year") if isinstance(review, dict) else None
        year = int(year) if isinstance(year, str) and year.strip().isdigit() else year
        if whole(year) and year > horizon:
            problems.append(f"unit_grading.reviews: unit '{review.get('unit')}' is reviewed in year {year}, "
                            f"beyond the horizon {horizon}")
    return problems
