"""Monte Carlo of a plan under binomial attrition, vectorised across repetitions.

**The policy** (what happens in one repetition, year t = 1..H, X the headcount per state at the start):

1. *Attrition*: L_σ ~ Binomial(⌊X_σ⌋, a_σ) people leave each state (one draw per state, repetition and year);
   a fractional remainder X_σ − ⌊X_σ⌋ (later-year plan targets are expected values and may be fractional)
   leaves at its expected rate a_σ·(X_σ − ⌊X_σ⌋). Y = X − L stay.
2. *Moves, promotions, grade steps, transfers, downgrades, redundancies*: year 1 carries out the plan's
   actions as counted (they name people: when a named person has left, the next in the cohort's merit order
   takes the action). Later years carry out the plan's cohort targets in proportion to the people present:
   the flow a out of σ is f_a · Y_σ / Ŷ_σ with Ŷ_σ = (1 − a_σ)·x_plan(σ, t−1) the stayers the plan expected,
   i.e. the plan's rate of promotion (move, ...) out of σ, applied to whoever is there. Either way no state
   gives more people than stay in it: when Y_σ falls short, actions late in the merit order
   (:data:`~optimizer.simulate.inputs.ACTION_ORDER`: tier promotion, sequence move, grade step, transfer,
   redundancy, downgrade) go short first.
3. *Hires*: year 1 hires the plan's recruits. Later years fill the gap to the plan's headcount of each sequence
   the plan hires into that year: H_q = clip((T_q − R_q)/π̄_q, 0, r_q·N_q(t−1)), with T_q the plan's headcount
   of sequence q at the end of the year, R_q the simulated one before hiring, π̄_q the recruits' in-year
   survival, r_q = ``hiring.max_rate`` and N_q(t−1) the sequence's simulated start-of-year stock (the hiring
   cap). H_q is spread over the plan's entry states of that year in the plan's proportions. A sequence the
   plan does not hire into that year gets no hires.
4. *In-year losses of inflows* (``flow_convention: service_dependent``): of the people on flow a, Binomial(⌊n⌋,
   1 − π_a) leave before the year ends (recruits at the first-year rate); under ``start_of_year`` π_a = 1.

Under ``flow_convention: decide_then_attrition`` steps 1 and 2 swap: the moves act on the start-of-year stock X
(year 1 as counted, in merit order, never more than X_σ; later years at the plan's rate f_a · X_σ / x_plan(σ,
t−1)), then the people left in σ leave as Binomial(⌊X_σ − out_σ⌋, a_σ) and the people on flow a as
Binomial(⌊n⌋, a of the destination) (π_a = 1 − a of the destination).
5. *Money*: payroll = Σ_σ pay(σ)·X_σ at the end of the year; one-off costs = Σ_a cost_a · (people on a), as
   ``budget.csv`` charges them. The budget holds when payroll + one-off ≤ cap (relative tolerance 1e-7, as
   ``summary.json``); a mix band holds when lower − 1e-7 ≤ share ≤ upper + 1e-7.

With every rate 0 the policy is the plan itself: the simulation then reproduces the plan's headcounts and
money to rounding, in every repetition.

**Chunks and seeds**: repetitions run in chunks of :data:`CHUNK_REPS`; chunk k of a run with seed s draws from
``numpy.random.Generator(PCG64(SeedSequence(s, spawn_key=(k,))))``, block after block of :func:`block_reps`
repetitions (every year of a block, then the next block), and :func:`simulate_chunk` is a pure function of
(inputs, repetitions, seed, k). :func:`merge` puts chunks back in chunk order, so a run gives the same
numbers whether its chunks run in one process, in several, or on a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from models.scenario import SEQUENCES
from optimizer.simulate.inputs import PlanInputs, YearFlows

CHUNK_REPS = 1000
"""Repetitions per chunk: part of what a seed means (the same seed with another chunk size draws other
numbers), so it is fixed."""
BLOCK_VALUES = 1 << 17
"""Values (repetitions × states) simulated together inside a chunk, every year of one block of repetitions
before the next (:func:`block_reps`): a block's arrays (1 MB of float64 each) stay in the processor's cache and
the memory allocator reuses them instead of mapping fresh pages for every temporary. Part of what a seed
means, like :data:`CHUNK_REPS`."""
TOLERANCE = 1e-7
"""Relative tolerance of the band and cap checks, as :func:`optimizer.plan.results.goal_deviations`."""


@dataclass(frozen=True)
class Outcomes:
    """What repetitions produced (R repetitions, H years): the raw material of every probability and quantile."""

    chunks: tuple[int, ...]
    """the chunk indices these repetitions came from, in order"""
    heads: np.ndarray
    """float[R, H, 3]: end-of-year headcount per sequence (:data:`models.scenario.SEQUENCES`)"""
    payroll: np.ndarray
    """float[R, H]: end-of-year payroll (CNY)"""
    one_off: np.ndarray
    """float[R, H]: the year's one-off costs (hiring, retraining and moves, transfers, downgrades, redundancy)"""

    @property
    def reps(self) -> int:
        return self.heads.shape[0]

    @property
    def total(self) -> np.ndarray:
        """float[R, H]: payroll + one-off costs, what the budget cap limits."""
        return self.payroll + self.one_off

    def shares(self) -> np.ndarray:
        """float[R, H, 3]: each sequence's share of the year's headcount."""
        total = self.heads.sum(axis=2, keepdims=True)
        return np.divide(self.heads, total, out=np.zeros_like(self.heads), where=total > 0)

    def in_band(self, inputs: PlanInputs) -> np.ndarray:
        """bool[R, H, 3]: the sequence's share lies in its band (True where no band applies)."""
        share = self.shares()
        lower = np.nan_to_num(inputs.lower, nan=-np.inf)[None]
        upper = np.nan_to_num(inputs.upper, nan=np.inf)[None]
        return (share >= lower - TOLERANCE) & (share <= upper + TOLERANCE)

    def budget_held(self, inputs: PlanInputs) -> np.ndarray:
        """bool[R, H]: payroll + one-off costs ≤ cap."""
        return self.total - inputs.cap[None] <= TOLERANCE * np.abs(inputs.cap[None])


def chunk_sizes(reps: int) -> list[tuple[int, int]]:
    """(chunk index, repetitions) of a run of ``reps`` repetitions."""
    return [(k, min(CHUNK_REPS, reps - start)) for k, start in enumerate(range(0, reps, CHUNK_REPS))]


def block_reps(states: int) -> int:
    """Repetitions per block of a plan with ``states`` states: as many as :data:`BLOCK_VALUES` holds, at least 1
    (33 for the 3,897 states of the benchmark's 100k plan)."""
    return max(1, BLOCK_VALUES // max(states, 1))


def chunk_generator(seed: int, chunk: int) -> np.random.Generator:
    """The generator of chunk ``chunk`` of a run seeded ``seed`` (independent streams per chunk)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(chunk,))))


def _draw(rng: np.random.Generator, people: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Binomial(⌊people⌋, rate) plus the fractional remainder at its expected rate (people [R, C], rate [C]).

    The draws run column by column (all repetitions of a column, then the next): numpy's sampler keeps its
    per-(n, rate) set-up while they repeat, which they do down a column (one rate, and in year 1 one count)."""
    whole = np.floor(people + 1e-9)
    fraction = np.maximum(people - whole, 0.0)
    leaving = rng.binomial(whole.T.astype(np.int64), rate[:, None]).T
    return leaving + fraction * rate


def _group_starts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start positions, key values) of the runs of equal values in the sorted array ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), keys
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return starts, keys[starts]


def _internal_flows(year: int, stay: np.ndarray, flows: YearFlows, inputs: PlanInputs) -> np.ndarray:
    """People on each non-hire flow [R, A]: the plan's counts (year 1) or its rates applied to ``stay``, the
    people the flows may act on (later years), never more out of a state than ``stay`` holds, merit order first."""
    internal = ~flows.is_hire
    source = flows.source[internal]
    count = flows.count[internal]
    if year > 1:
        # The plan moves at most its expected stayers out of a state (``add_outflow_availability``), so its rates
        # applied to the actual stayers never ask for more people than stay: no merit-order cut is needed.
        expected = (1.0 if inputs.decide_first else 1.0 - inputs.attrition) * inputs.planned[year - 1]
        scale = np.divide(stay, expected, out=np.zeros_like(stay), where=expected > 1e-12)
        return count * scale[:, source]
    desired = np.broadcast_to(count, (stay.shape[0], len(count)))
    starts, _ = _group_starts(source)
    running = np.cumsum(desired, axis=1) - desired
    before = running - np.repeat(running[:, starts], np.diff(np.r_[starts, len(source)]), axis=1)
    taken = np.clip(stay[:, source] - before, 0.0, desired)
    return taken


def _hires(year: int, start: np.ndarray, before_hiring: np.ndarray, flows: YearFlows, inputs: PlanInputs) -> np.ndarray:
    """People hired on each hire flow [R, A_hire]: the plan's (year 1), else the gap to the plan's sequence
    headcount, within the hiring cap, in the plan's proportions."""
    hire = flows.is_hire
    count = flows.count[hire]
    if year == 1 or not hire.any():
        return np.broadcast_to(count, (start.shape[0], len(count))).copy()
    sequence = flows.hire_sequence[hire]
    target = inputs.planned_by_sequence()[year]
    out = np.zeros((start.shape[0], len(count)))
    for q in np.unique(sequence):
        mine = sequence == q
        planned = count[mine].sum()
        if planned <= 0:
            continue
        survival = (count[mine] * flows.survival[hire][mine]).sum() / planned
        members = inputs.sequence == q
        gap = (target[q] - before_hiring[:, members].sum(axis=1)) / max(survival, 1e-12)
        ceiling = inputs.hire_rate[q] * start[:, members].sum(axis=1)
        total = np.clip(gap, 0.0, ceiling)
        out[:, mine] = total[:, None] * (count[mine] / planned)[None]
    return out


def _land(rng: np.random.Generator, people: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """The people on each flow still there at the end of the year."""
    if np.all(survival >= 1.0):
        return people
    leaving = _draw(rng, people, 1.0 - survival)
    return np.where(survival >= 1.0, people, people - leaving)


@dataclass(frozen=True)
class _Summing:
    """Sums the columns of [R, A] arrays by a key per column (int[A], −1 dropped) into [R, width]: the
    columns to take, in key order, and where each key's run starts (worked out once per year)."""

    take: np.ndarray
    starts: np.ndarray
    keys: np.ndarray
    width: int
    in_order: bool

    @classmethod
    def by(cls, keys: np.ndarray, width: int) -> _Summing:
        take = np.flatnonzero(keys >= 0)
        take = take[np.argsort(keys[take], kind="stable")]
        starts, where = _group_starts(keys[take])
        return cls(take, starts, where, width, bool(np.array_equal(take, np.arange(len(keys)))))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros((values.shape[0], self.width))
        if len(self.take):
            ordered = values if self.in_order else values[:, self.take]
            out[:, self.keys] = np.add.reduceat(ordered, self.starts, axis=1)
        return out


@dataclass(frozen=True)
class _Year:
    """What every block of a chunk reads of one year's flows, worked out once per chunk."""

    flows: YearFlows
    internal: np.ndarray
    """bool[A]: the non-hire flows"""
    out_of: _Summing
    """sums the internal flows' people into the states they leave"""
    into: _Summing
    """sums the internal flows' people into the states they join"""
    hired_into: _Summing
    """sums the hires into the states they join"""
    internal_cost: np.ndarray
    """float[A_internal]: one-off cost per person on each internal flow"""
    hire_cost: np.ndarray
    """float[A_hire]: one-off cost per person hired on each hire flow"""

    @classmethod
    def of(cls, flows: YearFlows, width: int) -> _Year:
        internal, hire = ~flows.is_hire, flows.is_hire
        return cls(flows, internal, _Summing.by(flows.source[internal], width),
                   _Summing.by(flows.target[internal], width), _Summing.by(flows.target[hire], width),
                   flows.unit_cost[internal], flows.unit_cost[hire])


def _simulate_block(inputs: PlanInputs, years: list[_Year], membership: np.ndarray, rng: np.random.Generator,
                    out: Outcomes) -> None:
    """The policy (module docstring) for the repetitions of ``out`` (a block's rows of the chunk's arrays,
    written in place), years one after another."""
    stock = np.broadcast_to(inputs.start, (out.reps, len(inputs.states))).astype(float)
    for year, plan in enumerate(years, start=1):
        flows = plan.flows
        if inputs.decide_first:
            moved = _internal_flows(year, stock, flows, inputs)
            kept = stock - plan.out_of(moved)
            after = kept - _draw(rng, kept, inputs.attrition)
        else:
            stay = stock - _draw(rng, stock, inputs.attrition)
            moved = _internal_flows(year, stay, flows, inputs)
            after = stay - plan.out_of(moved)
        after = after + plan.into(_land(rng, moved, flows.survival[plan.internal]))
        hired = _hires(year, stock, after, flows, inputs)
        after += plan.hired_into(_land(rng, hired, flows.survival[flows.is_hire]))
        out.heads[:, year - 1] = after @ membership
        out.payroll[:, year - 1] = after @ inputs.pay[year - 1]
        out.one_off[:, year - 1] = moved @ plan.internal_cost + hired @ plan.hire_cost
        stock = after


def simulate_chunk(inputs: PlanInputs, reps: int, seed: int, chunk: int = 0) -> Outcomes:
    """``reps`` repetitions of the policy (module docstring), drawn from chunk ``chunk``'s stream of ``seed``
    in blocks of :func:`block_reps` repetitions. Pure: the same arguments give the same :class:`Outcomes`,
    wherever it runs."""
    rng = chunk_generator(seed, chunk)
    horizon, width = inputs.horizon, len(inputs.states)
    membership = np.zeros((width, len(SEQUENCES)))
    membership[np.arange(width), inputs.sequence] = 1.0
    years = [_Year.of(flows, width) for flows in inputs.flows]
    result = Outcomes((chunk,), np.zeros((reps, horizon, len(SEQUENCES))), np.zeros((reps, horizon)),
                      np.zeros((reps, horizon)))
    step = block_reps(width)
    for first in range(0, reps, step):
        rows = slice(first, min(first + step, reps))
        block = Outcomes((chunk,), result.heads[rows], result.payroll[rows], result.one_off[rows])
        _simulate_block(inputs, years, membership, rng, block)
    return result


def merge(parts: Iterable[Outcomes]) -> Outcomes:
    """The chunks' outcomes as one run, in chunk order (whatever order they finished in)."""
    ordered = sorted(parts, key=lambda part: part.chunks)
    return Outcomes(
        tuple(k for part in ordered for k in part.chunks),
        np.concatenate([part.heads for part in ordered]),
        np.concatenate([part.payroll for part in ordered]),
        np.concatenate([part.one_off for part in ordered]),
    )


Runner = Callable[[PlanInputs, list[tuple[int, int]], int], list[Outcomes]]
"""Runs the chunks (index, repetitions) of a seed and returns their outcomes in any order: in this process
(:func:`run_local`), or in worker processes or on a Dask cluster
(:func:`optimizer.simulate.cluster.cluster_runner`)."""


def run_local(inputs: PlanInputs, chunks: list[tuple[int, int]], seed: int) -> list[Outcomes]:
    """The chunks one after another in this process."""
    return [simulate_chunk(inputs, reps, seed, k) for k, reps in chunks]


def simulate(inputs: PlanInputs, reps: int, seed: int, runner: Runner = run_local) -> Outcomes:
    """``reps`` repetitions seeded ``seed``, their chunks run by ``runner``."""
    return merge(runner(inputs, chunk_sizes(reps), seed))
