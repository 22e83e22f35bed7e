"""Where each kind of move may go, for a frame of moves with from- and to-state columns (``from_unit`` …
``to_grade``) and a kind per row: the rules :func:`optimizer.verify.graded.check_flow_rules` applies to
flows.csv and :func:`optimizer.verify.people.check_eligibility` to each person's year-1 action. Part of the
independent verifier: the rules are restated here from docs/model.md, not taken from the model."""

from __future__ import annotations

import pandas as pd

from models.scenario import Scenario
from optimizer.verify.data import FROM, INFLOWS, PAY_RULE_KINDS, ROUTES, STATE, TO, PlanData, route_of
from optimizer.verify.frames import same_or_blank, truthy

__all__ = ["disabled", "landing_grades", "max_tier_at", "misplaced", "unpaid"]


def misplaced(p: PlanData, moves: pd.DataFrame, kind: pd.Series) -> pd.Series:
    """True where a move does not land where its kind goes: grade_step (u,s,k,g)→(u,s,k,g+1); tier_promotion
    (u,s,k,·)→(u,s,k+1,·); sequence_move (u,s,k,·)→(u,s′,m(k),·) on a route s→s′ of ``mobility`` with its tier
    mapping m; unit_transfer (u,s,k,g)→(u′,s,k,g) with u′ ≠ u; downgrade (u,s,k,·)→(u,s,k′,·) with
    1 ≤ k − k′ ≤ mobility.downgrade.max_tiers_down; hire → grade 1 of a hiring.entry_tiers tier. Other kinds
    (stay, redundancy, attrition, unknown) are never misplaced here."""
    s, f = p.scenario, moves
    same = {c: same_or_blank(f[f"from_{c}"], f[f"to_{c}"]) for c in STATE}
    mapping = pd.DataFrame(
        [(route, tier, landing) for route in ROUTES for tier, landing in getattr(s.mobility.mapping, route).items()],
        columns=["route", "from_tier", "landing"],
    ).astype({"from_tier": "Int64", "landing": "Int64"})
    route = route_of(f, kind)
    landing = f[["from_tier"]].assign(route=route).merge(mapping, on=["route", "from_tier"], how="left")["landing"]
    landing = landing.set_axis(f.index)
    entry = pd.DataFrame([(seq, tier) for seq, tiers in s.hiring.entry_tiers.items() for tier in tiers],
                         columns=["to_sequence", "to_tier"]).astype({"to_tier": "Int64"}).drop_duplicates()
    entry_tier = f[["to_sequence", "to_tier"]].merge(entry, how="left", indicator=True)["_merge"].eq("both")
    entry_tier = entry_tier.set_axis(f.index)
    lands = {
        "grade_step": same["unit"] & same["sequence"] & same["tier"] & truthy(f["to_grade"].eq(f["from_grade"] + 1)),
        "tier_promotion": same["unit"] & same["sequence"] & truthy(f["to_tier"].eq(f["from_tier"] + 1)),
        "sequence_move": same["unit"] & truthy(f["to_tier"].eq(landing)),
        "unit_transfer": ~same["unit"] & same["sequence"] & same["tier"] & same["grade"],
        # --- downgrades (`mobility.downgrade`, docs/requirements.md) ---
        "downgrade": same["unit"] & same["sequence"]
                     & truthy((f["from_tier"] - f["to_tier"]).between(1, s.mobility.downgrade.max_tiers_down)),
        "hire": truthy(f["to_grade"].eq(1)) & entry_tier,
    }
    wrong = pd.Series(False, index=f.index)
    for name, ok in lands.items():
        wrong |= kind.eq(name) & ~ok
    return wrong


def disabled(s: Scenario, kind: pd.Series) -> pd.Series:
    """True for a kind the scenario switches off: unit_transfer without mobility.unit_transfers, downgrade
    without mobility.downgrade.enabled, hire without hiring.enabled, redundancy without redundancy.enabled."""
    enabled = {"unit_transfer": s.mobility.unit_transfers, "downgrade": s.mobility.downgrade.enabled,
               "hire": s.hiring.enabled, "redundancy": s.redundancy.enabled}
    return kind.isin([name for name, on in enabled.items() if not on])


def unpaid(p: PlanData, moves: pd.DataFrame) -> pd.Series:
    """True where a filled from- or to-state has no pay (an unknown unit, or no base salary on the pay table:
    e.g. grade 6, or a tier beyond the sequence's ladder)."""
    has_from, has_to = moves[list(FROM)].notna().all(axis=1), moves[list(TO)].notna().all(axis=1)
    return (has_from & p.pay_of(moves, "from_").isna()) | (has_to & p.pay_of(moves, "to_").isna())


def landing_grades(p: PlanData, moves: pd.DataFrame, kind: pd.Series) -> pd.Series:
    """The pay rule's grade (:meth:`PlanData.landing_grade`) for tier promotions, sequence moves and downgrades;
    missing for the other kinds."""
    ruled = kind.isin(PAY_RULE_KINDS)
    landing = pd.Series(pd.NA, index=moves.index, dtype="Int64")
    landing[ruled] = p.landing_grade(moves[ruled])
    return landing


def max_tier_at(p: PlanData, moves: pd.DataFrame, kind: pd.Series) -> pd.Series:
    """units.csv max_tier of the destination unit in the move's year (its ``year`` column) for moves of a kind
    that may land on a higher technical tier (:data:`INFLOWS`) into the technical sequence; missing elsewhere. A
    move lands above its cap where to_tier > this."""
    caps = p.unit_terms(moves["to_unit"], moves["year"], "max_tier")
    capped = kind.isin(INFLOWS) & truthy(moves["to_sequence"].eq("technical"))
    return pd.to_numeric(caps, errors="coerce").astype("Int64").where(capped)
