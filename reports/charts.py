"""Plotly figures of a plan, each built from the plan folder's tables alone (``reports.html`` embeds them).

Every figure takes the frames as read from the CSV files of docs/outputs.md; shares are shown in percent
and money in CNY million, the numbers themselves are those of the files.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

SEQUENCES = ("management", "technical", "operations")
SEQUENCE_COLOURS = {"management": "#7b3294", "technical": "#2b83ba", "operations": "#e66101"}
OTHER_COLOUR = "#666666"
KIND_COLOURS = {
    "grade_step": "#9ecae1",
    "tier_promotion": "#3182bd",
    "sequence_move": "#31a354",
    "unit_transfer": "#756bb1",
    "downgrade": "#e6ab02",
    "hire": "#fdae6b",
    "redundancy": "#de2d26",
    "attrition": "#969696",
}
COST_PARTS = {
    "payroll": "Payroll",
    "hiring_cost": "Hiring",
    "retraining_cost": "Retraining and moves",
    "redundancy_cost": "Redundancy",
}
COST_COLOURS = {
    "payroll": "#4c78a8",
    "hiring_cost": "#f58518",
    "retraining_cost": "#54a24b",
    "redundancy_cost": "#e45756",
}
SLACK_PARTS = {
    "overmanning_cost": ("Overmanning (outside the cap)", "#b279a2"),
    "short_time_cost": ("Short time (outside the cap)", "#9d755d"),
}
"""budget.csv's slack costs of requirements: outside ``total`` and the cap, drawn hatched where non-zero."""
IN_NODE, OUT_NODE = "in (hires)", "out (attrition, redundancy)"
MILLION = 1e6
TEMPLATE = "plotly_white"


def ordered_sequences(values: Iterable[str]) -> list[str]:
    """The sequences present in ``values``: management, technical, operations in that order, then any other."""
    present = {str(v) for v in values}
    return [s for s in SEQUENCES if s in present] + sorted(present - set(SEQUENCES))


def state_label(sequence: str, tier: int) -> str:
    """Node and axis label of a (sequence, tier) pair, e.g. ``technical T3``."""
    return f"{sequence} T{int(tier)}"


def _rgba(hex_colour: str, alpha: float) -> str:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def mix_figure(mix: pd.DataFrame) -> go.Figure:
    """One panel per sequence: its share by year, the target (dashed) and the band target ± tolerance,
    shaded over the years where ``mix.csv`` fills ``lower``/``upper`` (from the deadline year on)."""
    sequences = ordered_sequences(mix["sequence"])
    fig = make_subplots(rows=1, cols=len(sequences), subplot_titles=sequences, horizontal_spacing=0.06)
    for col, sequence in enumerate(sequences, start=1):
        rows = mix[mix["sequence"] == sequence].sort_values("year")
        colour = SEQUENCE_COLOURS.get(sequence, OTHER_COLOUR)
        fig.add_scatter(x=rows["year"], y=rows["share"] * 100, mode="lines+markers", name=f"{sequence} share",
                        line={"color": colour, "width": 3}, row=1, col=col,
                        hovertemplate="year %{x}: %{y:.2f}%<extra>" + sequence + "</extra>")
        fig.add_scatter(x=rows["year"], y=rows["target"] * 100, mode="lines", name="target", showlegend=col == 1,
                        line={"color": "#333333", "dash": "dash", "width": 1}, row=1, col=col,
                        hovertemplate="target %{y:.2f}%<extra></extra>")
        band = rows.dropna(subset=["lower", "upper"])
        if not band.empty:
            fig.add_shape(type="rect", x0=band["year"].min() - 0.3, x1=band["year"].max() + 0.3,
                          y0=band["lower"].min() * 100, y1=band["upper"].max() * 100, fillcolor=colour,
                          opacity=0.2, line_width=0, layer="below", row=1, col=col)
        fig.update_yaxes(range=share_range(rows), row=1, col=col)
    fig.update_xaxes(dtick=1, title_text="year")
    fig.update_yaxes(ticksuffix="%")
    fig.update_layout(template=TEMPLATE, height=380, margin={"t": 40, "b": 40},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def share_range(rows: pd.DataFrame) -> list[float]:
    """The y range (percent) of a mix panel: every share, the target and the whole band, with a margin of a tenth
    of the span (plotly's autorange ignores shapes, so a band outside the shares would be cut off)."""
    values = pd.concat([rows[c] for c in ("share", "target", "lower", "upper")]).dropna() * 100
    low, high = float(values.min()), float(values.max())
    margin = max((high - low) * 0.1, 0.5)
    return [max(low - margin, 0.0), min(high + margin, 100.0)]


def money_text(value: float, signed: bool = False, digits: int = 2) -> str:
    """CNY as millions with ``digits`` decimals, never ``-0.00``: a value that rounds to zero shows unsigned."""
    shown = round(value / MILLION, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{shown:{'+' if signed and shown != 0 else ''},.{digits}f}"


def budget_figure(budget: pd.DataFrame) -> go.Figure:
    """The group total (``unit_id = ALL``) by year as stacked payroll and one-off costs, topped by the
    requirements' overmanning and short-time costs (hatched, outside the cap) where any is non-zero, with the
    cap as a line labelled with the headroom (cap − total) of each capped year."""
    totals = budget[budget["unit_id"] == "ALL"].sort_values("year")
    fig = go.Figure()
    parts = [(column, label, {"color": COST_COLOURS[column]}) for column, label in COST_PARTS.items()]
    parts += [(column, label, {"color": colour, "pattern": {"shape": "/"}})
              for column, (label, colour) in SLACK_PARTS.items() if totals[column].fillna(0).ne(0).any()]
    for column, label, marker in parts:
        fig.add_bar(x=totals["year"], y=totals[column] / MILLION, name=label, marker=marker,
                    hovertemplate="year %{x}: %{y:,.2f} m<extra>" + label + "</extra>")
    capped = totals.dropna(subset=["cap"])
    headroom = [f"headroom {money_text(value)} m" for value in capped["cap"] - capped["total"]]
    fig.add_scatter(x=capped["year"], y=capped["cap"] / MILLION, name="Cap", mode="lines+markers+text",
                    text=headroom, textposition="top center", line={"color": "#111111", "dash": "dash"},
                    hovertemplate="cap year %{x}: %{y:,.2f} m<extra></extra>")
    fig.update_layout(template=TEMPLATE, barmode="stack", height=420, yaxis_title="CNY million",
                      xaxis={"dtick": 1, "title": "year"}, margin={"t": 30}, legend={"orientation": "h", "y": -0.2})
    return fig


def _tier_counts(headcount: pd.DataFrame, sequence: str, year: int, tiers: int) -> pd.Series:
    """Headcount of ``sequence`` in ``year`` by tier 1..``tiers``, summed over units and grades."""
    rows = headcount[(headcount["sequence"] == sequence) & (headcount["year"] == year)]
    return rows.groupby("tier")["headcount"].sum().reindex(range(1, tiers + 1), fill_value=0.0)


def pyramid_figure(headcount: pd.DataFrame) -> go.Figure:
    """A tier pyramid per sequence (one row each): year 0 growing to the left, year H to the right, on the
    same scale so the two sides compare."""
    sequences = ordered_sequences(headcount["sequence"])
    last = int(headcount["year"].max())
    titles = [f"{sequence}: year {year}" for sequence in sequences for year in (0, last)]
    fig = make_subplots(rows=len(sequences), cols=2, shared_yaxes=True, subplot_titles=titles,
                        horizontal_spacing=0.02, vertical_spacing=0.08)
    for row, sequence in enumerate(sequences, start=1):
        tiers = int(headcount.loc[headcount["sequence"] == sequence, "tier"].max())
        sides = {year: _tier_counts(headcount, sequence, year, tiers) for year in (0, last)}
        widest = max(float(side.max()) for side in sides.values()) * 1.05 or 1.0
        for col, (year, counts) in enumerate(sides.items(), start=1):
            fig.add_bar(y=[f"T{tier}" for tier in counts.index], x=counts.to_numpy(), orientation="h",
                        name=f"year {year}", showlegend=False, row=row, col=col,
                        marker_color=_rgba(SEQUENCE_COLOURS.get(sequence, OTHER_COLOUR), 0.45 if col == 1 else 0.9),
                        hovertemplate="%{y}: %{x:,.1f}<extra>" + f"{sequence} year {year}" + "</extra>")
            fig.update_xaxes(range=[widest, 0] if col == 1 else [0, widest], row=row, col=col)
    fig.update_layout(template=TEMPLATE, height=260 * len(sequences), margin={"t": 40}, bargap=0.15)
    return fig


def flow_links(flows: pd.DataFrame) -> pd.DataFrame:
    """``source, target, kind, count``: flows summed over units, grades and years, between (sequence, tier)
    labels; hires come from :data:`IN_NODE`, attrition and redundancy go to :data:`OUT_NODE`."""
    def labels(prefix: str, empty: str) -> pd.Series:
        sequence, tier = flows[f"{prefix}_sequence"], flows[f"{prefix}_tier"]
        return (sequence.astype(str) + " T" + tier.fillna(0).astype(int).astype(str)).where(sequence.notna(), empty)

    links = pd.DataFrame({"source": labels("from", IN_NODE), "target": labels("to", OUT_NODE),
                          "kind": flows["kind"], "count": flows["count"]})
    return links.groupby(["source", "target", "kind"], as_index=False, sort=True)["count"].sum()


SMALL_FLOW = 0.005
"""A link carrying less than this share of a view's people is grouped with the other small links of its kind."""
OTHER_NODE = "other states (small flows)"


def group_small_flows(links: pd.DataFrame, share: float = SMALL_FLOW) -> pd.DataFrame:
    """:func:`flow_links` with the links below ``share`` of the total grouped by kind between two
    :data:`OTHER_NODE` nodes (hires still come from "in", leavers still go to "out"): the Sankey stays legible,
    and every kind's total is kept."""
    small = links["count"] < share * links["count"].sum()
    if small.sum() < 2:
        return links
    moved = links[small].assign(source=links["source"].where(links["source"].eq(IN_NODE), OTHER_NODE),
                                target=links["target"].where(links["target"].eq(OUT_NODE), OTHER_NODE))
    grouped = pd.concat([links[~small], moved], ignore_index=True)
    return grouped.groupby(["source", "target", "kind"], as_index=False, sort=True)["count"].sum()


def state_order(flows: pd.DataFrame) -> list[str]:
    """Labels of every (sequence, tier) a flow starts or ends in, by sequence (usual order) then tier."""
    pairs = pd.concat([flows[[f"{p}_sequence", f"{p}_tier"]].set_axis(["sequence", "tier"], axis=1)
                       for p in ("from", "to")]).dropna().drop_duplicates()
    rank = {sequence: i for i, sequence in enumerate(ordered_sequences(pairs["sequence"]))}
    pairs = pairs.assign(rank=pairs["sequence"].map(rank)).sort_values(["rank", "tier"])
    return [state_label(sequence, tier) for sequence, tier in zip(pairs["sequence"], pairs["tier"], strict=True)]


def _column_positions(totals: pd.Series, gap: float = 0.015) -> list[float]:
    """Vertical centres (0 = top) of one column of nodes stacked in order, heights ∝ their totals."""
    share = totals / totals.sum() * (1 - gap * (len(totals) - 1))
    tops = share.cumsum() - share + gap * pd.Series(range(len(totals)), index=totals.index)
    return (tops + share / 2).clip(0.001, 0.999).tolist()


def _sankey(links: pd.DataFrame, states: list[str], name: str, visible: bool) -> go.Sankey:
    """A two-column Sankey: start-of-year states on the left (hires' "in" last), end-of-year states on the
    right ("out" last), each column in sequence and tier order."""
    out_of = links.groupby("source")["count"].sum()
    into = links.groupby("target")["count"].sum()
    left = out_of.reindex([s for s in [*states, OTHER_NODE, IN_NODE] if s in out_of.index])
    right = into.reindex([s for s in [*states, OTHER_NODE, OUT_NODE] if s in into.index])
    nodes = [*left.index, *right.index]
    colours = [KIND_COLOURS.get(kind, OTHER_COLOUR) for kind in links["kind"]]
    return go.Sankey(
        name=name, visible=visible, valueformat=",.1f", arrangement="snap",
        node={"label": nodes, "pad": 8, "thickness": 14,
              "x": [0.001] * len(left) + [0.999] * len(right),
              "y": _column_positions(left) + _column_positions(right),
              "color": [SEQUENCE_COLOURS.get(label.split(" ")[0], OTHER_COLOUR) for label in nodes]},
        link={"source": [left.index.get_loc(s) for s in links["source"]],
              "target": [len(left) + right.index.get_loc(t) for t in links["target"]],
              "value": links["count"].tolist(), "label": links["kind"].str.replace("_", " ").tolist(),
              "color": [_rgba(colour, 0.5) for colour in colours]},
    )


def sankey_figure(flows: pd.DataFrame) -> go.Figure:
    """Flows between (sequence, tier) states: year 1, and all years summed, switched by a menu; small links are
    grouped (:func:`group_small_flows`)."""
    first, last = int(flows["year"].min()), int(flows["year"].max())
    views = {f"year {first}": flows[flows["year"] == first]}
    if last > first:
        views[f"all years ({first}–{last})"] = flows
    states = state_order(flows)
    fig = go.Figure([_sankey(group_small_flows(flow_links(rows)), states, name, i == 0)
                     for i, (name, rows) in enumerate(views.items())])
    buttons = [{"label": name, "method": "update",
                "args": [{"visible": [j == i for j in range(len(views))]}]} for i, name in enumerate(views)]
    fig.update_layout(template=TEMPLATE, height=640, margin={"t": 50, "l": 10, "r": 10},
                      updatemenus=[{"buttons": buttons, "x": 0, "y": 1.08, "xanchor": "left", "direction": "down"}])
    return fig


def requirements_figure(requirements: pd.DataFrame) -> go.Figure:
    """One panel per requirement of ``requirements.csv``: the headcount by year as bars and the requirement
    as a dashed line (the gap is overmanning, or short time when the bar is below the line)."""
    names = list(dict.fromkeys(requirements["requirement"]))
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.06)
    for col, name in enumerate(names, start=1):
        rows = requirements[requirements["requirement"] == name].sort_values("year")
        fig.add_bar(x=rows["year"], y=rows["headcount"], name=f"{name} headcount", marker_color="#4c78a8",
                    showlegend=False, row=1, col=col, hovertemplate="year %{x}: %{y:,.1f} heads<extra></extra>")
        fig.add_scatter(x=rows["year"], y=rows["required"], mode="lines+markers", name=f"{name} required",
                        line={"color": "#111111", "dash": "dash"}, showlegend=False, row=1, col=col,
                        hovertemplate="required %{y:,.1f}<extra></extra>")
    fig.update_xaxes(dtick=1, title_text="year")
    fig.update_layout(template=TEMPLATE, height=380, margin={"t": 40, "b": 40})
    return fig


def _fan(fig: go.Figure, rows: pd.DataFrame, scale: float, colour: str, name: str, col: int, legend: bool) -> None:
    """The 5–95 % range of ``rows`` (simulation.csv) shaded, its median as a line and the plan's value dashed."""
    years = rows["year"]
    fig.add_scatter(x=years, y=rows["p95"] * scale, mode="lines", line={"width": 0}, showlegend=False,
                    hoverinfo="skip", row=1, col=col)
    fig.add_scatter(x=years, y=rows["p05"] * scale, mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor=_rgba(colour, 0.25), name="5–95 % of simulations", showlegend=legend, row=1, col=col,
                    hovertemplate="year %{x}: 5 % at %{y:,.4g}<extra>" + name + "</extra>")
    fig.add_scatter(x=years, y=rows["p50"] * scale, mode="lines+markers", line={"color": colour, "width": 3},
                    name="median", showlegend=legend, row=1, col=col,
                    hovertemplate="year %{x}: median %{y:,.4g}<extra>" + name + "</extra>")
    fig.add_scatter(x=years, y=rows["plan"] * scale, mode="lines", line={"color": "#333333", "dash": "dash"},
                    name="plan", showlegend=legend, row=1, col=col,
                    hovertemplate="year %{x}: plan %{y:,.4g}<extra>" + name + "</extra>")


def share_fan_figure(simulation: pd.DataFrame, mix: pd.DataFrame) -> go.Figure:
    """One panel per sequence: the 5–95 % fan and median of its simulated share by year, the plan's share
    (dashed) and the band's edges (dotted grey, from the deadline year on)."""
    sequences = ordered_sequences(simulation.loc[simulation["measure"] == "share", "sequence"])
    fig = make_subplots(rows=1, cols=len(sequences), subplot_titles=sequences, horizontal_spacing=0.06)
    for col, sequence in enumerate(sequences, start=1):
        rows = simulation[(simulation["measure"] == "share") & (simulation["sequence"] == sequence)].sort_values("year")
        _fan(fig, rows, 100.0, SEQUENCE_COLOURS.get(sequence, OTHER_COLOUR), sequence, col, col == 1)
        band = mix[(mix["sequence"] == sequence) & (mix["year"] >= 1)].dropna(subset=["lower", "upper"])
        for side in ("lower", "upper"):
            fig.add_scatter(x=band["year"], y=band[side] * 100, mode="lines+markers", name="band",
                            showlegend=col == 1 and side == "lower", line={"color": "#777777", "dash": "dot"},
                            marker={"symbol": "line-ew-open", "size": 14}, row=1, col=col,
                            hovertemplate="year %{x}: " + side + " %{y:.2f}%<extra>" + sequence + "</extra>")
    fig.update_xaxes(dtick=1, title_text="year")
    fig.update_yaxes(ticksuffix="%")
    fig.update_layout(template=TEMPLATE, height=380, margin={"t": 40, "b": 40}, legend={"orientation": "h", "y": -0.2})
    return fig


def total_fan_figure(simulation: pd.DataFrame, budget: pd.DataFrame) -> go.Figure:
    """The 5–95 % fan and median of the simulated total (payroll + one-off costs) by year, the plan's total
    (dashed) and the cap."""
    rows = simulation[simulation["measure"] == "total"].sort_values("year")
    fig = make_subplots(rows=1, cols=1)
    _fan(fig, rows, 1.0 / MILLION, COST_COLOURS["payroll"], "total", 1, True)
    capped = budget[(budget["unit_id"] == "ALL")].dropna(subset=["cap"]).sort_values("year")
    fig.add_scatter(x=capped["year"], y=capped["cap"] / MILLION, name="Cap", mode="lines+markers",
                    line={"color": "#111111", "dash": "dot"}, hovertemplate="cap year %{x}: %{y:,.2f} m<extra></extra>")
    fig.update_layout(template=TEMPLATE, height=380, yaxis_title="CNY million", xaxis={"dtick": 1, "title": "year"},
                      margin={"t": 30}, legend={"orientation": "h", "y": -0.2})
    return fig
