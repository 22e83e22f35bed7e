"""Synthetic Baogang-like input tables (employees, units, pay) following the input-table contract of docs/data.md.

Every random draw comes from one ``numpy.random.default_rng(seed)`` and is vectorised over employees, so
the same arguments give the same tables (and byte-identical files from :func:`write_generated`) and a
million employees take a few seconds. The pay table does not depend on the seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from models.grading import CRITERIA, grade_units
from models.pay import GRADES
from models.scenario import SEQUENCES, UnitGrading

#: Number of tiers of each sequence's ladder (each tier has the grades of ``models.pay.GRADES``).
LADDERS: dict[str, int] = {"management": 4, "technical": 8, "operations": 6}
#: Today's mix, which the roster is drawn around.
START_MIX: dict[str, float] = {"management": 0.08, "technical": 0.12, "operations": 0.80}

# Base salary of (tier 1, grade 1) and of (top tier, top grade), annual CNY; geometric in between.
_PAY_ANCHORS = {"management": (200_000, 1_000_000), "technical": (80_000, 600_000), "operations": (60_000, 200_000)}
# One tier up is worth this many grade steps: grade 1 of tier k+1 lies between grades 3 and 4 of tier k.
_TIER_STEP = 2.5

_TIER_DECAY = {"management": 0.5, "technical": 0.65, "operations": 0.6}  # headcount(tier k+1) / headcount(k)
_GRADE_SHARES = (0.26, 0.24, 0.20, 0.17, 0.13)
_PERFORMANCE_MEAN, _PERFORMANCE_SD = 75.0, 10.0
_YEARS_P = 0.29  # years_in_grade ~ Geometric(p) − 1, capped at 10: P(≥ 2 years) = (1 − p)² ≈ 0.50
_MAX_YEARS = 10
# P(technical_eligible | operations) = logistic((performance − mid) / scale), about 20% overall.
_ELIGIBLE_MID, _ELIGIBLE_SCALE = 86.0, 5.0
_PERSONAL_FACTOR = (0.95, 1.05)

# Unit grades are assigned by stratified quantiles (every band present from 4 units on), then each unit's
# weighted score is drawn inside its band of the default grading, at least 1 point from the band edges.
_BAND_SHARES = {"D": 0.15, "C": 0.35, "B": 0.35, "A": 0.15}
_SCORE_FLOOR = 35.0
_CRITERION_SD, _CRITERION_SPREAD = 4.0, 8.0  # criteria scatter around the score, at most ±spread
_SIZE_SIGMA = 1.0  # unit size shares ~ lognormal(0, sigma)

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏"
    "卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
_GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂华建国志文红晓海鹏宇浩辉鑫斌琳丹亮凯峰波婷雪玉兰英云飞龙春燕宁"
_TWO_CHAR_GIVEN = 0.7
_UNIT_PLACES = ("稀土", "铁运", "白云", "固阳", "巴润", "宝山", "钢联", "西创", "万腾", "金山", "北方", "草原", "黄河",
                "阴山", "昆区", "青山", "九原", "达茂", "东河", "石拐")
_UNIT_BUSINESSES = ("钢板", "物流", "矿山", "焦化", "炼铁", "炼钢", "轨梁", "线材", "能源", "检修", "耐材", "化工", "冶金",
                    "建安", "信息", "贸易")

EMPLOYEE_COLUMNS = ["employee_id", "unit_id", "sequence", "tier", "grade", "performance", "years_in_grade",
                    "salary", "technical_eligible", "name"]
UNIT_COLUMNS = ["unit_id", "name", *CRITERIA, "min_headcount", "max_headcount", "min_operations"]
_WORKLOAD = {"min_headcount": (0.80, 0.90), "min_operations": (0.60, 0.70)}
"""Each unit's workload floors, as shares of its roster (operations) headcount drawn uniformly in these ranges."""
PAY_COLUMNS = ["sequence", "tier", "grade", "base_salary"]


def pay_table() -> pd.DataFrame:
    """``sequence, tier, grade, base_salary`` for every state of the three ladders (whole yuan, seed-free).

    Salary rises geometrically by grade and by tier (one tier = ``_TIER_STEP`` grade steps), between the
    anchors of ``_PAY_ANCHORS``; at equal tier and grade management earns most, operations least.
    """
    frames = []
    for sequence in SEQUENCES:
        tiers = LADDERS[sequence]
        low, high = _PAY_ANCHORS[sequence]
        top_step = _TIER_STEP * (tiers - 1) + (len(GRADES) - 1)
        tier, grade = (a.ravel() for a in np.meshgrid(np.arange(1, tiers + 1), np.array(GRADES), indexing="ij"))
        steps = _TIER_STEP * (tier - 1) + (grade - 1)
        salary = np.rint(low * (high / low) ** (steps / top_step)).astype(np.int64)
        frames.append(pd.DataFrame({"sequence": sequence, "tier": tier, "grade": grade, "base_salary": salary}))
    return pd.concat(frames, ignore_index=True)[PAY_COLUMNS]


def _unit_names(n_units: int, rng: np.random.Generator) -> list[str]:
    """Unique names 包钢<place><business>公司 in a seeded order; ``第k`` is added once the pairs run out."""
    pairs = [(p, b) for p in _UNIT_PLACES for b in _UNIT_BUSINESSES]
    order = rng.permutation(len(pairs))
    names = []
    for i in range(n_units):
        place, business = pairs[order[i % len(pairs)]]
        round_ = i // len(pairs)
        names.append(f"包钢{place}{business}{f'第{round_ + 1}' if round_ else ''}公司")
    return names


def _unit_table(n_units: int, rng: np.random.Generator) -> pd.DataFrame:
    """Units with ids BG001…, unique Chinese names, criterion scores (0..100, 1 decimal), no headcount bounds yet
    (:func:`_workload_floors` fills the floors once the roster is drawn)."""
    bands = sorted(UnitGrading().grades, key=lambda band: band.min_score)  # ascending: D, C, B, A
    ceiling = 100.0 - _CRITERION_SPREAD
    low = np.array([max(band.min_score + 1.0, _SCORE_FLOOR) for band in bands])
    high = np.array([min(upper.min_score - 1.0, ceiling) for upper in bands[1:]] + [ceiling])
    cumulative = np.cumsum([_BAND_SHARES[band.name] for band in bands])[:-1]
    quantile = (rng.permutation(n_units) + 0.5) / n_units
    band = np.searchsorted(cumulative, quantile, side="right")
    score = rng.uniform(low[band], high[band])

    weights = np.array([getattr(UnitGrading().weights, c) for c in CRITERIA])
    noise = rng.normal(0.0, _CRITERION_SD, (n_units, len(CRITERIA)))
    noise -= (noise @ weights)[:, None]  # the weighted score stays exactly ``score``
    noise *= np.minimum(1.0, _CRITERION_SPREAD / np.abs(noise).max(axis=1))[:, None]
    criteria = np.round(score[:, None] + noise, 1)  # rounding moves the weighted score by ≤ 0.05

    width = max(3, len(str(n_units)))
    units = pd.DataFrame({"unit_id": [f"BG{i:0{width}d}" for i in range(1, n_units + 1)],
                          "name": _unit_names(n_units, rng)})
    for j, criterion in enumerate(CRITERIA):
        units[criterion] = criteria[:, j]
    units["min_headcount"] = np.nan
    units["max_headcount"] = np.nan
    units["min_operations"] = np.nan
    return units[UNIT_COLUMNS]


def _person_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """Surname + one or two given-name characters, drawn from a precomputed table of all combinations."""
    chars = np.array(list(_GIVEN_CHARS))
    given = np.concatenate([chars, np.strings.add(chars[:, None], chars[None, :]).ravel()])
    table = np.strings.add(np.array(list(_SURNAMES))[:, None], given[None, :]).ravel()
    first = rng.integers(0, len(chars), n)
    second = rng.integers(0, len(chars), n)
    given_index = np.where(rng.random(n) < _TWO_CHAR_GIVEN, len(chars) + first * len(chars) + second, first)
    return table[rng.integers(0, len(_SURNAMES), n) * len(given) + given_index]


def generate_tables(n_employees: int, n_units: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(employees, units, pay) with exactly the columns of the input tables (docs/data.md), drawn from ``seed``.

    Employees are grouped by unit (every unit has at least one), mixed about 8/12/80 over management/
    technical/operations, pyramid-shaped by tier, and technical tiers stay within the cap of the unit's
    grade under the default :class:`UnitGrading`. ``salary`` = base salary × unit pay coefficient × a
    personal factor in 0.95..1.05, whole yuan. Each unit has workload floors (``min_headcount``, ``min_operations``:
    80–90% of its headcount, 60–70% of its operations headcount). Requires ``1 ≤ n_units ≤ n_employees``.
    """
    if not 1 <= n_units <= n_employees:
        raise ValueError(f"need 1 ≤ n_units ≤ n_employees, got n_units={n_units}, n_employees={n_employees}")
    rng = np.random.default_rng(seed)
    units = _unit_table(n_units, rng)
    graded = grade_units(units, UnitGrading())
    pay = pay_table()

    sizes = rng.lognormal(0.0, _SIZE_SIGMA, n_units)
    headcount = 1 + rng.multinomial(n_employees - n_units, sizes / sizes.sum())
    unit = np.repeat(np.arange(n_units), headcount)
    sequence = rng.choice(len(SEQUENCES), n_employees, p=[START_MIX[s] for s in SEQUENCES])

    tier = np.empty(n_employees, dtype=np.int64)
    draw = rng.random(n_employees)
    max_tier = graded["max_tier"].to_numpy(dtype=np.int64)
    for code, name in enumerate(SEQUENCES):
        members = sequence == code
        cumulative = np.cumsum(_TIER_DECAY[name] ** np.arange(LADDERS[name]))
        cap = np.minimum(max_tier[unit[members]], LADDERS[name]) if name == "technical" else LADDERS[name]
        tier[members] = np.searchsorted(cumulative, draw[members] * cumulative[cap - 1], side="right") + 1
    grade = rng.choice(np.array(GRADES), n_employees, p=_GRADE_SHARES)

    performance = np.clip(rng.normal(_PERFORMANCE_MEAN, _PERFORMANCE_SD, n_employees), 0.0, 100.0).round(1)
    years = np.minimum(rng.geometric(_YEARS_P, n_employees) - 1, _MAX_YEARS)
    eligible_odds = 1.0 / (1.0 + np.exp(-(performance - _ELIGIBLE_MID) / _ELIGIBLE_SCALE))
    eligible = (sequence == SEQUENCES.index("operations")) & (rng.random(n_employees) < eligible_odds)

    base = np.zeros((len(SEQUENCES), max(LADDERS.values()), len(GRADES)))
    index = (pay["sequence"].map(SEQUENCES.index).to_numpy(), pay["tier"].to_numpy() - 1, pay["grade"].to_numpy() - 1)
    base[index] = pay["base_salary"].to_numpy()
    coefficient = graded["pay_coefficient"].to_numpy(dtype=float)[unit]
    salary = base[sequence, tier - 1, grade - 1] * coefficient * rng.uniform(*_PERSONAL_FACTOR, n_employees)

    width = max(7, len(str(n_employees)))
    employees = pd.DataFrame({
        "employee_id": np.strings.add("E", np.strings.zfill(np.arange(1, n_employees + 1).astype(str), width)),
        "unit_id": units["unit_id"].to_numpy(dtype=str)[unit],
        "sequence": np.array(SEQUENCES)[sequence],
        "tier": tier,
        "grade": grade.astype(np.int64),
        "performance": performance,
        "years_in_grade": years.astype(np.int64),
        "salary": np.rint(salary).astype(np.int64),
        "technical_eligible": eligible,
        "name": _person_names(n_employees, rng),
    })
    _workload_floors(units, employees, rng)
    return employees[EMPLOYEE_COLUMNS], units, pay


def _workload_floors(units: pd.DataFrame, employees: pd.DataFrame, rng: np.random.Generator) -> None:
    """Fill each unit's ``min_headcount`` and ``min_operations`` (whole people, rounded down) with the shares of
    :data:`_WORKLOAD` of its headcount and operations headcount: real units have work to do. Drawn last, so the
    roster does not depend on them."""
    heads = employees.groupby("unit_id").size().reindex(units["unit_id"], fill_value=0).to_numpy()
    operations = employees[employees["sequence"] == "operations"].groupby("unit_id").size()
    operations = operations.reindex(units["unit_id"], fill_value=0).to_numpy()
    for column, start in (("min_headcount", heads), ("min_operations", operations)):
        low, high = _WORKLOAD[column]
        units[column] = np.floor(start * rng.uniform(low, high, len(units))).astype(np.int64)


def write_generated(out_dir: str | Path, n_employees: int, n_units: int, seed: int,
                    fmt: Literal["csv", "parquet"] = "csv") -> dict[str, Path]:
    """Write ``employees``, ``units`` and ``pay`` files into ``out_dir``; returns table name → path.

    CSV: UTF-8, no index, ``\\n`` line ends, floats as ``%.15g``, NaN as empty. Parquet: pyarrow without
    schema metadata. Either way the same arguments give byte-identical files.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = dict(zip(("employees", "units", "pay"), generate_tables(n_employees, n_units, seed)))
    paths = {}
    for name, frame in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.15g")
        else:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None), path)
        paths[name] = path
    return paths
