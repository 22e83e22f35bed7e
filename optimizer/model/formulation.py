"""The cohort MILP: one ``add_<family>()`` per constraint family; each kind of scenario lists the families it
builds, in order (:mod:`optimizer.model.kinds`), and :func:`optimizer.model.build.build_model` calls them.

Notation: c a cohort (unit u, sequence s, tier k, grade g, seniority b, qualified q); σ(c) its state;
x[c,t] the expected headcount of c at the end of year t (x[c,0] fixed to the roster); f[a,t] the number of
people on arc a (a flow of :mod:`optimizer.model.network`) in year t; a_σ the annual attrition rate;
n[u,s,k,t] = Σ_{c ∈ (u,s,k)} x[c,t] the stock of a (unit, sequence, tier).
Year-1 flows are integers (they name people; ``solver.integer_year1: false`` solves the LP instead); later
years are expected values (continuous). A scenario with ``categories`` replaces the roster, pay table and
network by its own ladder (:mod:`optimizer.model.ladder`); its kind builds no mix band, budget cap, rate or
hiring caps.
Objective terms: ``mix`` (heads outside the band), ``budget_overrun`` (CNY over the cap), ``cost`` (CNY over
the horizon), ``disruption`` (people whose job changes); :mod:`optimizer.solvers.staged` combines them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from models.scenario import SEQUENCES, Scenario
from optimizer.model.cohorts import Cohort
from optimizer.model.data import Index, ModelData, Softened, stock_expr, var_name
from optimizer.model.network import (
    DOWNGRADE,
    GRADE_STEP,
    HIRE,
    REDUNDANCY,
    SEQUENCE_MOVE,
    TIER_PROMOTION,
    UNIT_TRANSFER,
    Arc,
)
from optimizer.model.payroll import wear_off
from optimizer.solvers.linear_model import INF, Expr, LinearModel, Push, add_to, combine
from optimizer.solvers.start import whole_shares


def _arc_name(arc: Arc, year: int) -> str:
    if arc.kind == HIRE:
        c = arc.target
        return var_name("hire", c.unit, c.sequence, c.tier, c.grade, f"y{year}")
    if arc.kind == SEQUENCE_MOVE:
        return var_name("move", arc.source.label(), f"to_{arc.target.sequence}", arc.target.tier, f"y{year}")
    if arc.kind == UNIT_TRANSFER:
        return var_name("transfer", arc.source.label(), f"to_{arc.target.unit}", f"y{year}")
    if arc.kind == DOWNGRADE:
        return var_name("downgrade", arc.source.label(), f"to_{arc.target.tier}", f"y{year}")
    short = {GRADE_STEP: "step_grade", TIER_PROMOTION: "promote_tier", REDUNDANCY: "redundancy"}[arc.kind]
    return var_name(short, arc.source.label(), f"y{year}")


# ------------------------------------------------------------------------------------------- variables


def add_stock_variables(model: LinearModel, data: ModelData, index: Index) -> None:
    """x[c,t] ≥ 0 for live cohorts; x[c,0] = roster count (fixed)."""
    for year, cohorts in enumerate(index.network.live):
        for c in cohorts:
            fixed = float(data.initial.get(c, 0)) if year == 0 else None
            lb, ub = (fixed, fixed) if fixed is not None else (0.0, INF)
            index.stock[(c, year)] = model.add_var(var_name("stock", c.label(), f"y{year}"), lb, ub)


def add_flow_variables(model: LinearModel, data: ModelData, index: Index) -> None:
    """f[a,t] ≥ 0 for every arc of year t; integer in year 1 (year-1 flows name people) unless
    ``solver.integer_year1`` is false (LP mode: expected headcounts throughout). Every flow is idle
    (``LinearModel.idle``: 0 when nobody acts) unless a floor asks for it."""
    integer_year1 = data.scenario.solver.integer_year1
    for year in range(1, data.horizon + 1):
        for arc in index.network.arcs[year]:
            var = model.add_var(_arc_name(arc, year), 0.0, INF, integer=integer_year1 and year == 1)
            model.idle.add(var)
            index.flow[(arc, year)] = var
            index.flows_by_year[year].append((arc, var))
            index.flows_by_kind[(year, arc.kind)].append((arc, var))


# ------------------------------------------------------------------------------------ constraint families


def add_hard_row(model: LinearModel, data: ModelData, index: Index, name: str, expr: Expr,
                  lo: float = -INF, hi: float = INF, stated: float | None = None) -> None:
    """lo ≤ expr ≤ hi. In an elastic build each finite side gives way by a named slack s ≥ 0 that the
    ``softened`` term counts (people, or promotions for a floor): expr + s_min ≥ lo, expr − s_max ≤ hi.
    ``stated`` is the limit as the inputs state it (default: the bound itself)."""
    if data.elastic:
        for side, bound, sign in (("minimum", lo, 1.0), ("maximum", hi, -1.0)):
            if math.isfinite(bound):
                slack = model.add_var(var_name("softened", name, side))
                add_to(expr, slack, sign)
                model.add_objective("softened", {slack: 1.0})
                index.softened.append(Softened(name, side, bound if stated is None else stated, slack))
    model.add_row(name, expr, lo, hi)


def add_stock_balance(model: LinearModel, data: ModelData, index: Index) -> None:
    """Stock balance with expected attrition, for every live cohort c′ and year t ≥ 1:

    x[c′,t] = Σ_{c: σ(c)=σ(c′), q(c)=q(c′), aged(b(c))=b(c′)} ((1−a_σ)·x[c,t−1] − ρ_c·Σ_{a out of c} f[a,t])
              + Σ_{a into c′} π_a·f[a,t]

    Stayers age one seniority bucket; flows land on bucket 0 (transfers keep their aged bucket).
    π_a is the share of an inflow still there at the end of the year, set by ``flow_convention``:
    ``start_of_year`` (default): π_a = 1, ρ_c = 1, attrition is charged on the start-of-year stock only and the
    flows take people from its stayers (:func:`add_outflow_availability`);
    ``decide_then_attrition`` ("decide, then attrition"): the flows act on the whole start-of-year stock, then
    everyone leaves at the rate of the state they hold: ρ_c = 1−a_σ (the people acted on left c before its
    stayers wasted), π_a = 1−a of the destination for every inflow, recruits included. A one-person cohort
    can then be acted on in year 1 (under ``start_of_year`` its limit ⌊(1−a)·1⌋ is 0);
    ``service_dependent`` (wastage by length of service): recruits leave at the first-year rate w_first,
    people retrained, promoted, moved or transferred in at the destination's ordinary rate, downgraded people
    at d, ρ_c = 1. For a category s this is the classic balance

    x[s,t] = (1−w_s)·x[s,t−1] + (1−w_first_s)·recruits + (1−w_s)·retrained_in + (1−d)·downgraded_in
             − retrained_out − downgraded_out − redundant.

    Own ladder: w_first_s = ``first_year_wastage`` of s, d = ``categories.downgrade_wastage``. From tables:
    w_first = ``attrition.first_year[s]`` of the destination's sequence (default: its ordinary rate a_σ),
    d = ``mobility.downgrade.wastage``. The flows table reports the in-year losses of inflows as
    attrition of the destination, so it still balances: x[t] = x[t−1] − out + in.
    """
    cap = data.seniority_cap
    for year in range(1, data.horizon + 1):
        rows: dict[Cohort, Expr] = defaultdict(dict)
        for c in index.network.live[year - 1]:
            target = rows[c.one_year_older(cap)]
            add_to(target, index.stock[(c, year - 1)], 1.0 - data.attrition(c))
        for (arc, var) in index.flows_of(year):
            if arc.source is not None:
                add_to(rows[arc.source.one_year_older(cap)], var, -data.outflow_survival(arc.source))
            if arc.target is not None:
                add_to(rows[arc.target], var, data.inflow_survival(arc))
        for c, expr in rows.items():
            add_to(expr, index.stock[(c, year)], -1.0)
            model.add_row(var_name("balance", c.label(), f"y{year}"), expr, 0.0, 0.0)


def add_outflow_availability(model: LinearModel, data: ModelData, index: Index) -> None:
    """Only the people the flows may act on can be moved: Σ_{a out of c} f[a,t] ≤ s_c·x[c,t−1], s_c = 1−a_σ (the
    stayers) under ``start_of_year`` and ``service_dependent``, 1 under ``decide_then_attrition``
    (:meth:`~optimizer.model.data.ModelData.acting_share`)."""
    for year in range(1, data.horizon + 1):
        outflows: dict[Cohort, Expr] = defaultdict(dict)
        for arc, var in index.flows_of(year):
            if arc.source is not None:
                add_to(outflows[arc.source], var, 1.0)
        for c, expr in outflows.items():
            add_to(expr, index.stock[(c, year - 1)], -data.acting_share(c))
            model.add_row(var_name("available", c.label(), f"y{year}"), expr, hi=0.0)


def rate_cap_of(arc: Arc, scenario: Scenario) -> tuple[str, float]:
    """(cap name, rate) governing an outflow arc; an arc of any other kind is a bug and raises."""
    if arc.kind == GRADE_STEP:
        return "grade_rate", scenario.promotion.grade_rate
    if arc.kind == TIER_PROMOTION:
        return "tier_rate", scenario.promotion.tier_rate
    if arc.kind == SEQUENCE_MOVE:
        return arc.route, getattr(scenario.mobility, arc.route)
    if arc.kind == UNIT_TRANSFER:
        return "transfer_rate", scenario.mobility.transfer_rate
    if arc.kind == DOWNGRADE:
        return "downgrade_rate", scenario.mobility.downgrade.rate
    if arc.kind == REDUNDANCY:
        return "redundancy_rate", scenario.redundancy.max_rate
    raise ValueError(f"no rate cap is defined for flows of kind '{arc.kind}'")


def _group_stock(index: Index, year: int) -> dict[tuple[str, str, int], Expr]:
    """n[u,s,k,year] as expressions."""
    groups: dict[tuple[str, str, int], Expr] = defaultdict(dict)
    for c in index.network.live[year]:
        add_to(groups[(c.unit, c.sequence, c.tier)], index.stock[(c, year)], 1.0)
    return groups


def add_rate_caps(model: LinearModel, data: ModelData, index: Index) -> None:
    """Promotion, grade-step, mobility, transfer, downgrade and redundancy caps on the start-of-year stock:

    Σ_{a of kind κ out of (u,s,k)} f[a,t] ≤ rate_κ · n[u,s,k,t−1]   for every (u,s,k), κ, t.
    Mobility caps are per route (operations → technical, management → technical, technical → management).
    """
    for year in range(1, data.horizon + 1):
        stock = _group_stock(index, year - 1)
        capped: dict[tuple[str, str, str, int], Expr] = defaultdict(dict)
        rates: dict[str, float] = {}
        for arc, var in index.flows_of(year):
            if arc.source is None:
                continue
            cap_name, rates[cap_name] = rate_cap_of(arc, data.scenario)
            add_to(capped[(cap_name, arc.source.unit, arc.source.sequence, arc.source.tier)], var, 1.0)
        for (cap_name, unit, sequence, tier), expr in sorted(capped.items()):
            for var, coef in stock[(unit, sequence, tier)].items():
                add_to(expr, var, -rates[cap_name] * coef)
            model.add_row(var_name(f"cap_{cap_name}", unit, sequence, tier, f"y{year}"), expr, hi=0.0)


def add_promotion_floors(model: LinearModel, data: ModelData, index: Index) -> None:
    """Optional floors on the eligible stock E[u,s,k,t] = Σ_{c eligible} s_c·x[c,t−1] (s_c the share the flows may
    act on, :func:`add_outflow_availability`):

    Σ promotions (grade steps) out of (u,s,k) in year t ≥ floor_rate · E[u,s,k,t];
    in year 1 the right-hand side is rounded down (whole people), so a floor never exceeds what exists.

    Start rules (``LinearModel.start_rules``, the plan that does only what the rules ask): each eligible
    cohort c gives its share rate·s_c·x[c,t−1]; in year 1 whole people, the floor's count split by
    largest remainder (:func:`whole_shares`) within what each cohort has left after the other floors.
    """
    floors = {TIER_PROMOTION: data.scenario.promotion.tier_rate_floor, GRADE_STEP: data.scenario.promotion.grade_rate_floor}
    taken: dict[Cohort, int] = defaultdict(int)  # year-1 people a floor's start rule already takes from a cohort
    for kind, rate in floors.items():
        if rate <= 0:
            continue
        for year in range(1, data.horizon + 1):
            flows: dict[tuple[str, str, int], Expr] = defaultdict(dict)
            eligible: dict[tuple[str, str, int], Expr] = defaultdict(dict)
            sources: dict[tuple[str, str, int], list[tuple[int, Cohort]]] = defaultdict(list)
            for arc, var in index.flows_of(year, kind):
                key = (arc.source.unit, arc.source.sequence, arc.source.tier)
                add_to(flows[key], var, 1.0)
                model.idle.discard(var)  # the floor may ask for it
                stock, survival = index.stock[(arc.source, year - 1)], data.acting_share(arc.source)
                add_to(eligible[key], stock, survival)
                sources[key].append((var, arc.source))
                if year > 1:
                    model.start_rules[var] = (0.0, {stock: rate * survival})
            for key, expr in sorted(flows.items()):
                name = var_name(f"floor_{kind}", *key, f"y{year}")
                if year == 1:
                    lower = math.floor(rate * sum(model.lb[v] * w for v, w in eligible[key].items()) + 1e-9)
                    add_hard_row(model, data, index, name, expr, lo=float(lower), stated=rate)
                    _year1_floor_rules(model, data, index, sources[key], rate, lower, taken)
                else:
                    for var, coef in eligible[key].items():
                        add_to(expr, var, -rate * coef)
                    add_hard_row(model, data, index, name, expr, lo=0.0, stated=rate)


def _year1_floor_rules(model: LinearModel, data: ModelData, index: Index, sources: list[tuple[int, Cohort]],
                       rate: float, lower: int, taken: dict[Cohort, int]) -> None:
    """Start rules for one year-1 floor of ``lower`` people over its flows (variable, source cohort): shares
    rate·s_c·x[c,0] made whole by :func:`whole_shares`, each within the people the cohort can give
    (⌊s_c·x[c,0]⌋ less what other floors took). No rules when the floor cannot be split so."""
    room = [math.floor(data.acting_share(c) * model.lb[index.stock[(c, 0)]] + 1e-9) - taken[c] for _, c in sources]
    shares = [rate * data.acting_share(c) * model.lb[index.stock[(c, 0)]] for _, c in sources]
    people = whole_shares(lower, shares, room)
    if people is None:
        return
    for (var, cohort), count in zip(sources, people):
        model.start_rules[var] = (float(count), {})
        taken[cohort] += count


def add_hiring_caps(model: LinearModel, data: ModelData, index: Index) -> None:
    """Σ hires into sequence s in year t ≤ hiring.max_rate[s] · Σ_{c ∈ s} x[c,t−1] (the whole group)."""
    for year in range(1, data.horizon + 1):
        hires: dict[str, Expr] = defaultdict(dict)
        for arc, var in index.flows_of(year, HIRE):
            add_to(hires[arc.target.sequence], var, 1.0)
        for sequence, expr in sorted(hires.items()):
            rate = data.scenario.hiring.max_rate.get(sequence)
            members = [c for c in index.network.live[year - 1] if c.sequence == sequence]
            for var, coef in stock_expr(index, members, year - 1).items():
                add_to(expr, var, -rate * coef)
            model.add_row(var_name("cap_hires", sequence, f"y{year}"), expr, hi=0.0)


def add_unit_headcount_bounds(model: LinearModel, data: ModelData, index: Index) -> None:
    """min_headcount[u] ≤ Σ_{c ∈ u} x[c,t] ≤ max_headcount[u] for t ≥ 1: the units table's bounds; the workload
    floor ``workload.headcount`` × the unit's year-0 headcount raises min_headcount where higher. Operations and
    technical hires fill the floor in the start (:func:`_hire_to_floor`)."""
    for year in range(1, data.horizon + 1):
        for unit in data.units:
            lo = data.min_headcount.get(unit, -INF)
            hi = data.max_headcount.get(unit, INF)
            if lo == -INF and hi == INF:
                continue
            expr = stock_expr(index, index.live_in(year, unit), year)
            add_hard_row(model, data, index, var_name("unit_headcount", unit, f"y{year}"), expr, lo, hi)
            if lo > 0:
                _hire_to_floor(model, data, index, year, lo, ("operations", "technical"), unit, lambda c: True)


FLOOR_ROOM = 0.9
"""Share of the operations hiring cap a headcount floor's start rule counts on: the rest is left to the operations
floors' own hires (:func:`_hire_to_floor`)."""


def _hire_to_floor(model: LinearModel, data: ModelData, index: Index, year: int, floor: float,
                   sequences: tuple[str, ...], unit: str, selects: Callable[[Cohort], bool]) -> None:
    """Hires fill a floor in the plan that does only what the rules ask (:mod:`optimizer.solvers.start`): per
    sequence s of ``sequences``, one hire flow h_s of year t ≥ 2 into the cohorts of ``unit`` that ``selects``
    keeps (the lowest tier of s) is not idle and gets the start rule

        h_s = w_s·(floor − S)/π_s,   S = Σ_{c within} (1−a_c)·x[c,t−1] − Σ_{a out of them} ρ_c·f[a,t] + Σ_{a ∉ h into them} π_a·f[a,t],

    S the floor row's headcount without the h (the stock balances summed over the cohorts), each h raised to 0
    where the floor holds without hiring; w_s ∝ s's group hiring cap in year t, as ``hiring.max_rate`` × s's
    year-0 headcount worn by t−1 years of attrition (for a headcount floor, :data:`FLOOR_ROOM` of the operations
    cap), so the start shares the hires as the caps allow. The rule only seeds the start: the model may
    hire anywhere. Year-1 hires (whole people) stay idle (attrition of one year leaves the shipped floors met),
    and a hire flow with a rule already keeps it. Without a hire flow the floor gets no rule (the start then
    comes from the restricted solve of :func:`optimizer.solvers.start.idle_start`)."""
    if year < 2:
        return
    def within(c: Cohort | None) -> bool:
        return c is not None and c.unit == unit and selects(c)

    touching = index.flows_touching(year, unit)
    chosen: dict[str, tuple[Arc, int]] = {}
    for arc, var in touching:
        if arc.kind != HIRE:
            continue
        s = arc.target.sequence
        if s in sequences and within(arc.target) and var not in model.start_rules:
            if s not in chosen or (arc.target.tier, var) < (chosen[s][0].target.tier, chosen[s][1]):
                chosen[s] = (arc, var)
    room = {s: getattr(data.scenario.hiring.max_rate, s) * data.worn_headcount.get((s, year - 1), 0.0) *
            (FLOOR_ROOM if s == "operations" and len(sequences) > 1 else 1.0) for s in chosen}
    total = sum(room.values())
    if total <= 0:
        return
    hired = {var for _, var in chosen.values()}
    rest: Expr = {}
    for c in index.live_in(year - 1, unit):
        if selects(c):
            add_to(rest, index.stock[(c, year - 1)], 1.0 - data.attrition(c))
    for other, var in touching:
        if var in hired:
            continue
        if within(other.source):
            add_to(rest, var, -data.outflow_survival(other.source))
        if within(other.target):
            add_to(rest, var, data.inflow_survival(other))
    for s, (arc, hire) in sorted(chosen.items()):
        share = room[s] / total / data.inflow_survival(arc)
        model.start_rules[hire] = (share * floor, {var: -share * coef for var, coef in rest.items()})
        model.idle.discard(hire)


def add_operations_workload(model: LinearModel, data: ModelData, index: Index) -> None:
    """Workload floor: Σ_{c ∈ (u, operations)} x[c,t] ≥ min_operations[u] for every unit with one and t ≥ 1 (the
    units table's ``min_operations``, or ``workload.operations`` × the unit's year-0 operations headcount where
    higher). Operations hires fill the floor in the start (:func:`_hire_to_floor`)."""
    for year in range(1, data.horizon + 1):
        for unit, floor in sorted(data.min_operations.items()):
            members = [c for c in index.live_in(year, unit) if c.sequence == "operations"]
            expr = stock_expr(index, members, year)
            add_hard_row(model, data, index, var_name("unit_operations", unit, f"y{year}"), expr, lo=floor)
            _hire_to_floor(model, data, index, year, floor, ("operations",), unit,
                           lambda c: c.sequence == "operations")


def add_operations_floor(model: LinearModel, data: ModelData, index: Index) -> None:
    """Σ_{c ∈ (u, operations)} x[c,t] ≥ mix.operations_floor · Σ_{c ∈ u} x[c,t] for every unit, t ≥ 1."""
    floor = data.scenario.mix.operations_floor
    if floor <= 0:
        return
    for year in range(1, data.horizon + 1):
        for unit in data.units:
            members = index.live_in(year, unit)
            weight = lambda c: (1.0 if c.sequence == "operations" else 0.0) - floor  # noqa: E731
            expr = stock_expr(index, members, year, weight)
            add_hard_row(model, data, index, var_name("operations_floor", unit, f"y{year}"), expr, lo=0.0, stated=floor)


def add_mix_band(model: LinearModel, data: ModelData, index: Index) -> None:
    """From the deadline year on, for each sequence s, with N_t the total and N_{s,t} the sequence stock:

    N_{s,t} − (target_s + tol)·N_t ≤ over[s,t],   (target_s − tol)·N_t − N_{s,t} ≤ under[s,t],
    over, under ≥ 0; the ``mix`` objective term is Σ (over + under) in heads (0 ⇔ the band holds).

    A plan to ``mix.confidence`` keeps m⁺[s,t], m⁻[s,t] heads inside the band's sides (docs/confidence.md),
    softly: N_{s,t} − (target_s + tol)·N_t + m⁺ ≤ over + short⁺, 0 ≤ short⁺ ≤ m⁺ (lower side alike), and the
    ``mix`` term adds w·Σ short with w = :data:`MARGIN_WEIGHT`: the band itself comes first, then as much of
    each margin as the plan can keep (a band narrower than its two margins is kept in full, its margins in part).

    For the constructive start (:mod:`optimizer.solvers.start`), every sequence move from a sequence above its
    band at the start into one below it is a *push* (``LinearModel.pushes``): up to min(r_a, s_c)·x[c,t−1]/m_c,
    r_a its route's rate cap, s_c the share of cohort c the flows may act on, m_c the number of such moves out
    of c, grouped by rate-cap row, never past s_c·x[c,t−1]/m_c in whole people; the start sets them all at one
    fraction of that, the best its search finds by the stage's goal.
    """
    mix = data.scenario.mix
    for year in range(mix.deadline, data.horizon + 1):
        cohorts = index.network.live[year]
        for sequence in SEQUENCES:
            target = mix.target.get(sequence)
            over = model.add_var(var_name("mix_over", sequence, f"y{year}"))
            under = model.add_var(var_name("mix_under", sequence, f"y{year}"))
            index.mix_over[(sequence, year)] = over
            index.mix_under[(sequence, year)] = under
            for bound, sign, slack in ((target + mix.tolerance, 1.0, over), (target - mix.tolerance, -1.0, under)):
                expr = stock_expr(index, cohorts, year, lambda c: sign * ((c.sequence == sequence) - bound))
                add_to(expr, slack, -1.0)
                side = "upper" if sign > 0 else "lower"
                model.add_row(var_name(f"mix_{side}", sequence, f"y{year}"), expr, hi=0.0)
                margin = data.mix_margin.get((sequence, year, side), 0.0)
                if margin > 0:
                    _add_margin(model, f"mix_{side}", (sequence, f"y{year}"), expr, 0.0, margin, 1.0, "mix")
            model.add_objective("mix", {over: 1.0, under: 1.0})
    _push_toward_the_band(model, data, index)


def _push_toward_the_band(model: LinearModel, data: ModelData, index: Index) -> None:
    """The pushes of :func:`add_mix_band`'s docstring, r_a by :func:`rate_cap_of`: λ = 1 moves every cohort as
    far as its route's cap allows."""
    mix, total = data.scenario.mix, sum(data.initial.values())
    if not total:
        return
    share = {s: sum(n for c, n in data.initial.items() if c.sequence == s) / total for s in SEQUENCES}
    above = {s for s in SEQUENCES if share[s] > mix.target.get(s) + mix.tolerance}
    below = {s for s in SEQUENCES if share[s] < mix.target.get(s) - mix.tolerance}
    for year in range(1, data.horizon + 1):
        moves = [(arc, var) for arc, var in index.flows_of(year, SEQUENCE_MOVE)
                 if arc.source.sequence in above and arc.target.sequence in below]
        out_of: dict[Cohort, int] = defaultdict(int)
        for arc, _ in moves:
            out_of[arc.source] += 1
        for arc, var in moves:
            route, rate = rate_cap_of(arc, data.scenario)
            acting, stock = data.acting_share(arc.source) / out_of[arc.source], index.stock[(arc.source, year - 1)]
            group = var_name(f"cap_{route}", arc.source.unit, arc.source.sequence, arc.source.tier, f"y{year}")
            model.pushes[var] = Push(group, {stock: min(rate / out_of[arc.source], acting)}, {stock: acting})


def _premium_flows(data: ModelData, index: Index) -> dict[str, Expr]:
    """The year-1 flow terms of R(u,1) (:mod:`optimizer.model.payroll`) per unit: a redundancy takes its cohort's
    mean premium r̄_c out of the unit, a transfer moves it to the destination, and the in-year loss (1 − π_a) of
    an inflow takes the destination state's roster mean premium r̄_σ. When decisions come first, the people acted
    on escape their source's attrition: each outflow gives back (1 − ρ_c)·r̄_σ(c) (ρ_c of
    :func:`add_stock_balance`), as the flows table no longer counts them among the source's leavers."""
    terms: dict[str, Expr] = defaultdict(dict)
    for arc, var in index.flows_of(1):
        if arc.kind in (REDUNDANCY, UNIT_TRANSFER):
            add_to(terms[arc.source.unit], var, -data.cohort_premium(arc.source))
        if arc.kind == UNIT_TRANSFER:
            add_to(terms[arc.target.unit], var, data.cohort_premium(arc.source))
        lost = 1.0 - data.inflow_survival(arc) if arc.target is not None else 0.0
        if lost > 0:
            add_to(terms[arc.target.unit], var, -lost * data.state_premium.get(arc.target.state, 0.0))
        spared = 1.0 - data.outflow_survival(arc.source) if arc.source is not None else 0.0
        if spared > 0:
            add_to(terms[arc.source.unit], var, spared * data.state_premium.get(arc.source.state, 0.0))
    return terms


MARGIN_WEIGHT = 0.01
"""Weight of a head (of a mean pay, for the budget) of margin not kept, against one outside the band (over the
cap): small, so that no plan leaves the band or the cap to keep a margin."""


def _add_margin(model: LinearModel, row: str, parts: tuple[str, ...], expr: Expr, limit: float, margin: float,
                unit: float, term: str) -> None:
    """The row ``expr`` − short ≤ ``limit`` − ``margin``, 0 ≤ short ≤ margin, and MARGIN_WEIGHT·unit·short in
    ``term``: ``expr`` ≤ ``limit`` is the target's own row (its slack included), ``margin`` in the row's units."""
    short = model.add_var(var_name(f"{row}_margin_short", *parts), 0.0, margin)
    kept = {**expr}
    add_to(kept, short, -1.0)
    model.add_row(var_name(f"{row}_margin", *parts), kept, hi=limit - margin)
    model.add_objective(term, {short: MARGIN_WEIGHT * unit})


def add_cost(model: LinearModel, data: ModelData, index: Index) -> None:
    """The ``cost`` term: Σ_{t=1..H} (payroll(t) + one-off costs(t)), per unit u

    payroll(u,t) = Σ_{c ∈ u} pay(σ(c),t)·x[c,t] + R(u,t),   one-off costs(u,t) = Σ_a cost_a(t)·f[a,t]

    pay(σ,t) is at the pay coefficient of the unit's grade in year t (a review changes it from its year on; people
    above a lowered tier cap keep theirs, :meth:`models.pay.PayStructure.coefficient_for`). One-off costs are the
    kind's costs of hiring, retraining or moving, transferring and downgrading, charged to the destination unit,
    and of redundancy, charged to the unit left. R is the premium mass of the people's actual pay over the pay
    table (:mod:`optimizer.model.payroll`; 0 without salaries), in CNY, untouched by reviews:
    R(u,1) = Σ_{c ∈ u} (1 − a_c)·P_c − Σ_{redundancies, transfers out of c ∈ u} r̄_c·f + Σ_{transfers into u}
    r̄_c·f − Σ_{inflows a into u} (1 − π_a)·r̄_σ·f[a,1] + Σ_{outflows a of c ∈ u} (1 − ρ_c)·r̄_σ(c)·f[a,1], with P_c
    the cohort's premium, r̄_c = P_c / x[c,0] and ρ_c of :func:`add_stock_balance` (the last sum is 0 unless
    decisions come first);
    R(u,t) = R(u,1)·(1 − ā_u)^(t−1). Its part no decision moves, (1 − ā_u)^(t−1)·Σ_{c ∈ u} (1 − a_c)·P_c, is
    P·``premium[u,yT]``, a variable fixed at that value / P (P the roster's mean pay): in CNY its coefficient would
    be divided by the cost (≈1e10) in the row that fixes the cost stage (:func:`optimizer.solvers.staged.fixing_row`),
    and HiGHS drops matrix entries below 1e-9: the row then lost the premiums, the cost stage's plan broke it, and
    the disruption stage of the 20k demo ended "infeasible" (a negative premium mass). The expressions are kept for
    :func:`add_budget_cap`."""
    flows = _premium_flows(data, index)
    held: dict[str, float] = defaultdict(float)
    for c, premium in data.premium.items():
        held[c.unit] += (1.0 - data.attrition(c)) * premium
    for year in range(1, data.horizon + 1):
        payroll: dict[str, Expr] = defaultdict(dict)
        for c in index.network.live[year]:
            add_to(payroll[c.unit], index.stock[(c, year)], data.pay_of(c, year))
        one_off: dict[str, Expr] = defaultdict(dict)
        for arc, var in index.flows_of(year):
            unit = arc.source.unit if arc.kind == REDUNDANCY else arc.target.unit
            add_to(one_off[unit], var, data.one_off_cost(arc, year))
        for unit in data.units:
            share = wear_off(data.unit_attrition.get(unit, 0.0), year)
            for var, coef in flows.get(unit, {}).items():
                add_to(payroll[unit], var, share * coef)
            if held.get(unit):  # the premiums no decision moves: a variable fixed at their value, in mean pays
                fixed = share * held[unit] / data.mean_pay
                add_to(payroll[unit], model.add_var(var_name("premium", unit, f"y{year}"), fixed, fixed), data.mean_pay)
            index.unit_payroll[(unit, year)], index.unit_one_off[(unit, year)] = payroll[unit], one_off[unit]
        index.payroll[year] = combine(*((1.0, payroll[unit]) for unit in data.units))
        index.one_off[year] = combine(*((1.0, one_off[unit]) for unit in data.units))
        model.add_objective("cost", _plus(index.payroll[year], index.one_off[year]))


def _plus(left: Expr, right: Expr) -> Expr:
    total = {**left}
    for var, coef in right.items():
        add_to(total, var, coef)
    return total


def _capped_row(model: LinearModel, parts: tuple[str, ...], spend: Expr, room: float, scale: float,
                margin: float = 0.0) -> int:
    """spend/P − overrun ≤ room/P with a new ``overrun`` ≥ 0 (in units of P) that the ``budget_overrun`` term
    counts as P·overrun CNY, and the margin row of a plan to a confidence level (:func:`_add_margin`) when
    ``margin`` > 0 (CNY); returns the overrun variable."""
    overrun = model.add_var(var_name("budget_overrun", *parts))
    scaled = {var: coef / scale for var, coef in spend.items()}
    add_to(scaled, overrun, -1.0)
    model.add_row(var_name("budget", *parts), scaled, hi=room / scale)
    if margin > 0:
        _add_margin(model, "budget", parts, scaled, room / scale, margin / scale, scale, "budget_overrun")
    model.add_objective("budget_overrun", {overrun: scale})
    return overrun


def add_budget_cap(model: LinearModel, data: ModelData, index: Index) -> None:
    """payroll(t) + one-off costs(t) − P·overrun[t] ≤ cap(t) for t = 1..H (the expressions of :func:`add_cost`);
    cap(t) = payroll(0)·(1 + ``budget.growth``)^t with
    payroll(0) = Σ salary (or ``budget.caps``). Each unit with a cap (``budget.unit_growth``: payroll(u,0)·(1 +
    unit_growth)^t; the units table's ``budget_cap``, which takes precedence) has its own row
    payroll(u,t) + one-off costs(u,t) − P·overrun[u,t] ≤ cap(u,t).
    A plan to ``budget.confidence`` keeps m(t) CNY under the group cap (docs/confidence.md), softly as in
    :func:`add_mix_band`: the same row with + m(t)/P on the left and a shortfall short ≤ m(t)/P on the right, whose
    P·MARGIN_WEIGHT·short adds to ``budget_overrun``.

    The rows are stated divided by P = the roster's mean pay (coefficients ≈ 1 per head, right-hand side ≈
    heads): in CNY they have coefficients up to 1e6 and a right-hand side up to 1e11, which slows the simplex
    method down many times over. ``overrun`` ≥ 0 is in units of P; the ``budget_overrun`` term is P·overrun
    in CNY (0 ⇔ every cap holds).
    """
    base, scale = data.base_payroll, data.mean_pay
    for year in range(1, data.horizon + 1):
        spend = _plus(index.payroll[year], index.one_off[year])
        index.overrun[year] = _capped_row(model, (f"y{year}",), spend, data.scenario.budget_cap(year, base), scale,
                                          data.budget_margin.get(year, 0.0))
        for unit, caps in sorted(data.unit_cap.items()):
            spend = _plus(index.unit_payroll[(unit, year)], index.unit_one_off[(unit, year)])
            index.unit_overrun[(unit, year)] = _capped_row(model, (unit, f"y{year}"), spend, caps[year], scale)


DISRUPTIVE = (TIER_PROMOTION, SEQUENCE_MOVE, UNIT_TRANSFER, DOWNGRADE, REDUNDANCY)
"""Flow kinds that change a person's job or end it: the ``disruption`` goal counts them."""


def add_disruption(model: LinearModel, data: ModelData, index: Index) -> None:
    """``disruption`` term: Σ_t Σ f[a,t] over tier promotions, sequence moves, transfers, downgrades and
    redundancies (on an own ladder: retraining, downgrades and redundancies). A downgrade counts: like a
    promotion or a move, it gives the person another job. Grade steps, hires and attrition do not count."""
    model.add_objective("disruption", {var: 1.0 for (arc, _), var in index.flow.items() if arc.kind in DISRUPTIVE})
