"""The planners' what-if page, a Streamlit script (``wfplan serve`` runs it; tests run it with ``AppTest``).

Sections: Overview (the scenario at a glance, the latest run, every run of the store), Data (demo group or
upload), Scenario (start from a shipped scenario or an earlier run, the keys planners change, the YAML it
amounts to), Run (the queue, progress, cancel), Results (status, diagnosis, downloads, mix, budget, units,
year-1 actions, approval), Compare (two runs side by side) and Explore (a sweep over one key, drawn as it fills
in). Every solve runs in the queue's worker processes (:mod:`web.jobs`) and is recorded in the run store; this
script only reads, draws, and moves runs through their lifecycle (submit, approve, reject).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import scenarios
from models.io import InputError
from models.scenario import Scenario, ScenarioError
from optimizer import api
from optimizer.plan.folders import OutputFolderError
from optimizer.plan.reader import PlanFileError, read_plan
from optimizer.registry.database import StoreError
from optimizer.registry.layout import new_run_id
from optimizer.registry.lifecycle import TRANSITIONS
from optimizer.whatif.sentences import diagnosis_sentences, unproven_sentences
from optimizer.whatif.sweep import plan_columns
from reports.charts import budget_figure, mix_figure
from web import views
from web.controls import BY_KEY, CONTROLS, SWEEPABLE, overrides_for, scenario_yaml
from web.inputs import Upload, accept_upload, demo_inputs, overview
from web.jobs import RunRequest
from web.runs import RunRow, run_rows
from web.settings import settings_from_env
from web.state import Services, services

SHIPPED = tuple(sorted(p.stem for p in Path(scenarios.__file__).parent.glob("*.yaml")))
RUNS_SHOWN = 500  # the newest runs of the store the page lists
POLL = 1.0  # seconds between looks at running solves
MIME = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "html": "text/html",
        "zip": "application/zip", "yaml": "application/x-yaml", "csv": "text/csv"}


def state() -> Any:
    return st.session_state


# ------------------------------------------------------------------------------------------ scenario


def shipped_graded() -> list[str]:
    """The shipped scenarios planned from input tables (an own-ladder scenario has no people to plan)."""
    return [name for name in SHIPPED if api.scenario(name).kind == "graded"]


def base_options(rows: list[RunRow]) -> dict[str, str]:
    """Choice label → source: ``shipped:<name>`` or ``run:<run id>``."""
    options = {f"shipped scenario: {name}": f"shipped:{name}" for name in shipped_graded()}
    options |= {f"earlier run: {row.name}": f"run:{row.run_id}" for row in rows if row.has_plan}
    return options


def base_scenario(source: str, rows: list[RunRow]) -> Scenario:
    """The scenario a choice names: a shipped file, or the resolved scenario an earlier run's summary holds."""
    kind, _, name = source.partition(":")
    if kind == "shipped":
        return api.scenario(name)
    folder = next(row.folder for row in rows if row.run_id == name)
    resolved = read_plan(folder).summary["scenario"]
    return api.scenario(Scenario.model_validate({**resolved, "applied_overrides": []}))


def reset_controls() -> None:
    for control in CONTROLS:
        state().pop(f"ctl:{control.key}", None)
    state().pop("whatif_name", None)


def control_widget(control, raw: dict[str, Any]) -> Any:
    key = f"ctl:{control.key}"
    if key not in state():
        state()[key] = control.shown(raw)
    if control.kind == "switch":
        return st.toggle(control.label, key=key, help=control.help)
    low, high = control.bounds()
    if control.kind == "whole":
        return st.number_input(control.label, min_value=None if low is None else int(low),
                               max_value=None if high is None else int(high), step=1, key=key, help=control.help)
    return st.number_input(control.label, min_value=None if low is None else float(low),
                           max_value=None if high is None else float(high), step=float(control.step), format="%g",
                           key=key, help=control.help, value=None if control.optional else "min",
                           placeholder="none" if control.optional else None)


def scenario_section(rows: list[RunRow]) -> tuple[Scenario | None, RunRequest | None]:
    """The scenario controls; returns the what-if scenario and the request that would solve it (None when the
    controls make an invalid scenario, whose problems are shown, or no tables are chosen)."""
    options = base_options(rows)
    st.selectbox("Start from", list(options), key="base_choice", on_change=reset_controls,
                 help="a shipped scenario, or the scenario of an earlier run with its changes")
    source = options[state()["base_choice"]]
    base = base_scenario(source, rows)
    raw = base.to_raw()
    state().setdefault("whatif_name", base.name)
    name = st.text_input("What-if name", key="whatif_name", help="names the run's folder: runs/<name>/<run id>")
    shown = {}
    groups = list(dict.fromkeys(control.group for control in CONTROLS))
    for column, group in zip(st.columns(len(groups)), groups, strict=True):
        with column:
            st.markdown(f"**{group}**")
            for control in (c for c in CONTROLS if c.group == group):
                shown[control.key] = control_widget(control, raw)
    overrides = overrides_for(raw, shown, name.strip())
    try:
        scenario = api.scenario(base, overrides=overrides)
    except ScenarioError as exc:
        st.error("These settings do not make a valid scenario:\n\n" + "\n".join(f"- {p}" for p in exc_lines(exc)))
        return None, None
    st.caption("Changes: " + ("; ".join(scenario.applied_overrides) or "none (the scenario as it is)"))
    text = scenario_yaml(scenario, state()["base_choice"])
    with st.expander("The scenario as YAML"):
        st.code(text, language="yaml")
    st.download_button("Download the scenario (YAML)", text.encode("utf-8"), file_name=f"{scenario.name}.yaml",
                       mime=MIME["yaml"], on_click="ignore", key="download_yaml")
    inputs = state().get("inputs")
    if inputs is None:
        return scenario, None
    return scenario, RunRequest(raw, source, tuple(overrides), str(inputs.path), user=state().get("user", ""))


def exc_lines(exc: Exception) -> list[str]:
    """The problems of an error as the CLI prints them, one per line (without the heading line)."""
    lines = str(exc).splitlines()
    return [line.strip().removeprefix("- ") for line in lines[1:]] or lines


# ------------------------------------------------------------------------------------------------ data


def data_section(svc: Services) -> None:
    limit = svc.settings.max_upload_mb
    choice = st.radio("Input tables", ["Demo group", "Upload tables"], horizontal=True, key="data_source")
    if choice == "Demo group":
        employees = st.number_input("Employees in the demo group", min_value=100, max_value=200_000, value=20_000,
                                    step=1000, key="demo_employees")
        if st.button("Use the demo group", key="use_demo"):
            with st.spinner("Generating the demo group…"):
                state()["inputs"] = demo_inputs(svc.settings.inputs, int(employees))
            state().pop("upload_problems", None)
    else:
        st.caption(f"employees, units and pay as .csv or .parquet files named after them, or one .xlsx workbook "
                   f"with those sheets; up to {limit} MB per file")
        files = st.file_uploader("Input tables", type=["csv", "parquet", "xlsx"], accept_multiple_files=True,
                                 key="upload")
        if st.button("Check and use these tables", key="use_upload", disabled=not files):
            try:
                state()["inputs"] = accept_upload(svc.settings.inputs, [Upload(f.name, f.getvalue()) for f in files])
                state().pop("upload_problems", None)
            except InputError as exc:
                state()["upload_problems"] = str(exc).splitlines()
    problems = state().get("upload_problems")
    if problems:
        st.error("The upload was not accepted (nothing was kept). " + problems[0] + "\n\n"
                 + "\n".join(f"- {line.strip()}" for line in problems[1:]))
    inputs = state().get("inputs")
    if inputs is not None:
        st.success(f"Planning with the {inputs.label}: {len(inputs.tables.employees):,} employees in "
                   f"{len(inputs.tables.units):,} units.")
        table = overview(inputs.tables)
        st.dataframe(table, hide_index=True, column_config={"share": st.column_config.NumberColumn(format="percent")})


# ------------------------------------------------------------------------------------------------- run


def submit(svc: Services, request: RunRequest) -> None:
    try:
        job = svc.queue.submit(request)
    except (ScenarioError, OutputFolderError) as exc:
        state()["run_problem"] = str(exc)
        return
    state().pop("run_problem", None)
    state().setdefault("my_runs", []).append(job.run_id)
    state()["result_run"] = job.run_id


def run_section(svc: Services, request: RunRequest | None) -> None:
    if state().get("inputs") is None:
        st.info("Choose the input tables first (Data).")
    st.button("Run this what-if", type="primary", disabled=request is None, key="run", on_click=submit,
              args=(svc, request))
    if state().get("run_problem"):
        st.error(state()["run_problem"])
    queue_panel(svc)


@st.fragment(run_every=POLL)
def queue_panel(svc: Services) -> None:
    """This session's runs with their progress (refreshed every POLL seconds) and a cancel button each; the
    whole page reruns when one of them ends, so its results show."""
    jobs = {job.run_id: job for job in svc.queue.snapshot()}
    running = sum(job.state == "running" for job in jobs.values())
    waiting = sum(job.state == "queued" for job in jobs.values())
    st.caption(f"Solver queue: {running} running, {waiting} waiting (at most {svc.queue.workers} at once).")
    mine = [jobs[run_id] for run_id in reversed(state().get("my_runs", [])) if run_id in jobs]
    for job in mine:
        words = views.status_words(job.state, job.exit_code, job.status, job.message, svc.queue.position(job.run_id),
                                   job.plan_dir)
        with st.container(border=True):
            st.markdown(f"**{job.scenario}** · run `{job.run_id}` · {job.seconds():.0f} s")
            getattr(st, words.tone)(words.text)
            if not job.done:
                st.code("\n".join(job.progress(last=12)) or "starting…", language=None)
                if st.button("Cancel", key=f"cancel:{job.run_id}"):
                    svc.queue.cancel(job.run_id)
    ended = {job.run_id for job in mine if job.recorded}
    if ended - set(state().get("seen_ended", ())):
        state()["seen_ended"] = sorted(ended)
        st.rerun(scope="app")


# --------------------------------------------------------------------------------------------- results


@st.cache_data(max_entries=8, show_spinner=False)
def plan_tables(folder: str, stamp: float) -> dict[str, Any]:
    """The plan folder's summary and tables (cached per folder and summary.json's time)."""
    plan = read_plan(Path(folder))
    return {"summary": plan.summary, "mix": plan.mix, "budget": plan.budget, "actions": plan.actions,
            "units": views.unit_changes(plan)}


def run_choice(rows: list[RunRow], label: str, key: str, plans_only: bool = False) -> RunRow | None:
    shown = [row for row in rows if row.has_plan or not plans_only]
    if not shown:
        return None
    ids = [row.run_id for row in shown]
    if state().get(key) not in ids:
        state()[key] = ids[0]
    chosen = st.selectbox(label, ids, key=key, format_func=lambda run_id: shown[ids.index(run_id)].name)
    return shown[ids.index(chosen)]


def results_section(svc: Services, rows: list[RunRow]) -> None:
    row = run_choice(rows, "Run", "result_run")
    if row is None:
        st.info("No runs yet: start one under Run.")
        return
    words = views.status_words(row.state, row.exit_code, row.status, row.message, svc.queue.position(row.run_id),
                               row.folder)
    getattr(st, words.tone)(words.text)
    if row.folder is None:
        return
    try:
        tables = plan_tables(str(row.folder), (row.folder / "summary.json").stat().st_mtime)
    except PlanFileError as exc:  # a run another version of wfplan wrote
        st.error(str(exc))
        return
    summary = tables["summary"]
    if "diagnosis" in summary:
        st.subheader("Diagnosis")
        st.markdown("\n".join(f"- {line}" for line in diagnosis_sentences(summary["diagnosis"])))
    if not row.has_plan:
        return
    for sentence in unproven_sentences(summary):
        st.warning(sentence)
    downloads(row.folder)
    approval_section(svc, row)
    st.subheader("Mix against the band")
    st.plotly_chart(mix_figure(tables["mix"]), key="chart_mix")
    st.subheader("Budget against the cap")
    st.plotly_chart(budget_figure(tables["budget"]), key="chart_budget")
    by_unit = views.budget_by_unit(tables["budget"])
    st.dataframe(by_unit, hide_index=True, key="budget_units",
                 column_config={c: st.column_config.NumberColumn(format="%.2f") for c in by_unit.columns if c != "year"})
    st.caption("Total cost (payroll + one-off costs) by unit and year, CNY million; the cap is on the group total.")
    st.subheader("Headcount change per unit")
    units = tables["units"]
    st.plotly_chart(go.Figure(go.Bar(x=units["unit_id"], y=units["change"], marker_color="#2b83ba"),
                              layout={"template": "plotly_white", "height": 320, "yaxis_title": "people",
                                      "margin": {"t": 20}}), key="chart_units")
    st.dataframe(units, hide_index=True, key="unit_table")
    actions_view(row, tables["actions"])


def downloads(folder: Path) -> None:
    columns = st.columns(3)
    for column, (label, name, kind) in zip(columns, [("Workbook (report.xlsx)", "report.xlsx", "xlsx"),
                                                     ("Report (report.html)", "report.html", "html")], strict=False):
        path = folder / name
        if path.is_file():
            column.download_button(label, path.read_bytes(), file_name=f"{folder.name}-{name}", mime=MIME[kind],
                                   on_click="ignore", key=f"download_{kind}")
    columns[2].download_button("The plan (zip)", views.plan_zip(folder), file_name=f"{folder.name}.zip",
                               mime=MIME["zip"], on_click="ignore", key="download_zip")


def actions_view(row: RunRow, actions: pd.DataFrame) -> None:
    st.subheader("Year-1 actions")
    inputs = state().get("inputs")
    if inputs is not None and "name" in inputs.tables.employees.columns:
        actions = views.with_names(actions, inputs.tables.employees)
    units = sorted(set(actions["from_unit"].dropna()) | set(actions["to_unit"].dropna()))
    left, middle, right = st.columns(3)
    chosen_units = left.multiselect("Unit", units, key="filter_units")
    kinds = middle.multiselect("Action", sorted(actions["action"].unique()), key="filter_actions",
                               default=[k for k in actions["action"].unique() if k != "stay"])
    text = right.text_input("Employee id or name contains", key="filter_text")
    shown = views.filter_actions(actions, chosen_units, kinds, text)
    st.caption(f"{len(shown):,} of {len(actions):,} rows")
    st.dataframe(shown, hide_index=True, key="action_table")
    st.download_button("Download these rows (CSV)", shown.to_csv(index=False).encode("utf-8"),
                       file_name=f"{row.run_id}-actions.csv", mime=MIME["csv"], on_click="ignore",
                       key="download_actions")


def approval_note_key() -> str:
    """The note field's key: a new one after each transition, so the browser shows a fresh, empty field.

    Writing "" into the old key from the callback leaves the browser's copy of the field stale when a rerun
    overlaps (its next message sends the old note back), which once filed the submitter's note with the
    approval too."""
    return f"approval_note.{state().get('approval_round', 0)}"


def transition(svc: Services, run_id: str, action: str) -> None:
    """Submit, approve or reject the run in the store, by the name in the sidebar, with the note typed."""
    note = state().get(approval_note_key(), "").strip() or None
    try:
        svc.queue.store.transition(run_id, action, by=state().get("user", ""), note=note)
        state()["approval_problem"] = None
        state()["approval_round"] = state().get("approval_round", 0) + 1  # a new, empty note field
    except StoreError as exc:
        state()["approval_problem"] = str(exc)


def approval_section(svc: Services, row: RunRow) -> None:
    st.subheader("Approval")
    if row.approval is None:
        st.info("The run is recorded in the run store when it ends.")
        return
    info = svc.queue.store.run(row.run_id)
    st.markdown(f"Status in the run store: **{info.status}**")
    if info.changes:
        st.error("Its files changed since it was recorded: " + "; ".join(map(str, info.changes)))
    actions = [action for action, step in TRANSITIONS.items() if step.source == info.status]
    if actions:
        user = state().get("user", "").strip()
        st.text_input("Note", key=approval_note_key(), placeholder="why (kept in the audit trail)")
        for column, action in zip(st.columns(len(actions)), actions, strict=True):
            column.button(action.capitalize(), key=f"approval:{action}", disabled=not user, on_click=transition,
                          args=(svc, info.id, action))
        if not user:
            st.caption("Give your name (in the sidebar) to submit, approve or reject.")
    if state().get("approval_problem"):
        st.error(state()["approval_problem"])
    audit = pd.DataFrame([{"at": entry.at.strftime("%Y-%m-%d %H:%M:%S UTC"), "by": entry.actor,
                           "action": entry.action, "from": entry.from_status, "to": entry.to_status,
                           "note": entry.comment} for entry in info.audit])
    st.dataframe(audit, hide_index=True, key="audit_table")


# --------------------------------------------------------------------------------------------- compare


def compare_section(svc: Services, rows: list[RunRow]) -> None:
    planned = [row for row in rows if row.has_plan]
    if len(planned) < 2:
        st.info("Two runs with plans are needed to compare.")
        return
    left, right = st.columns(2)
    with left:
        first = run_choice(planned, "Reference run", "compare_a")
    with right:
        if state().get("compare_b") in (None, first.run_id):
            state()["compare_b"] = next(row.run_id for row in planned if row.run_id != first.run_id)
        second = run_choice(planned, "Compared with", "compare_b")
    if first.run_id == second.run_id:
        st.warning("Choose two different runs.")
        return
    try:
        tables = svc.queue.store.diff(first.run_id, second.run_id)
    except (StoreError, PlanFileError) as exc:
        st.error(str(exc))
        return
    people = tables["people"]
    st.markdown(f"**{len(people):,}** people have a different year-1 action in the two runs.")
    for name in ("mix", "budget", "actions", "units"):
        st.markdown(f"**{name}**")
        st.dataframe(tables[name], hide_index=True, key=f"compare_{name}")
    st.markdown("**people whose action differs**")
    st.dataframe(people, hide_index=True, key="compare_people")


# --------------------------------------------------------------------------------------------- explore


METRICS = {
    "technical share in the last year (%)": lambda row, last: 100 * row.get(f"share.technical.y{last}", float("nan")),
    "budget use in the last year (%)": lambda row, last: 100 * row.get(f"budget_use.y{last}", float("nan")),
    "heads outside the mix band": lambda row, last: row.get("objective.mix"),
    "cost over the horizon (CNY million)": lambda row, last: (row.get("objective.cost") or float("nan")) / 1e6,
    "people moved or promoted": lambda row, last: row.get("objective.disruption"),
}


def parse_values(text: str) -> list[float]:
    """``"3, 4, 5"`` → [3.0, 4.0, 5.0]; ValueError naming the part that is no number."""
    values = []
    for part in text.replace(";", ",").split(","):
        if part.strip():
            try:
                values.append(float(part))
            except ValueError:
                raise ValueError(f"'{part.strip()}' is not a number") from None
    if not values:
        raise ValueError("give at least one value")
    return values


def explore_section(svc: Services, request: RunRequest | None) -> None:
    st.caption("Solve the current what-if once per value of one key; the chart fills in as the runs finish.")
    labels = {control.label: control.key for control in SWEEPABLE}
    label = st.selectbox("Key", list(labels), key="sweep_key")
    control = BY_KEY[labels[label]]
    st.text_input(f"Values of {control.key} ({'in %' if control.kind == 'percent' else 'as numbers'})",
                         key="sweep_values", placeholder="e.g. 2, 3, 4, 5")
    st.button("Run the sweep", key="sweep_run", disabled=request is None, on_click=start_sweep,
              args=(svc, request, control.key))
    if state().get("sweep_problems"):
        st.error("\n".join(f"- {line}" for line in state()["sweep_problems"]))
    if "study" in state():
        sweep_panel(svc)


def start_sweep(svc: Services, request: RunRequest, key: str) -> None:
    """Queue one run of ``request`` per value of the sweep's text box, with ``key`` set to it (no diagnosis:
    a point that misses a target is a result of the sweep). Problems go to ``sweep_problems``."""
    control, problems, study, study_id = BY_KEY[key], [], [], new_run_id()
    try:
        values = parse_values(state().get("sweep_values", ""))
    except ValueError as exc:
        values, problems = [], [f"values: {exc}"]
    for value in values:
        setting = api.override_text(key, control.scenario_value(value))
        kept = [text for text in request.overrides if not text.startswith(key + "=")]
        point = RunRequest(request.scenario, request.source, (*kept, setting), request.data_dir, diagnose=False,
                           user=request.user, study=study_id, setting=setting)
        try:
            study.append((value, svc.queue.submit(point).run_id))
        except (ScenarioError, OutputFolderError) as exc:
            problems.append(f"{setting}: " + "; ".join(exc_lines(exc)))
    state()["sweep_problems"] = problems
    if study:
        state()["study"] = {"id": study_id, "key": key, "points": study}


@st.fragment(run_every=POLL)
def sweep_panel(svc: Services) -> None:
    study = state()["study"]
    jobs = {job.run_id: job for job in svc.queue.snapshot()}
    metric = st.selectbox("Draw", list(METRICS), key="sweep_metric")
    points = []
    for value, run_id in study["points"]:
        job = jobs.get(run_id)
        if job is None or not job.done:
            continue
        y = float("nan")
        if job.exit_code in (0, 3) and (job.plan_dir / "summary.json").is_file():
            summary = read_plan(job.plan_dir).summary
            y = METRICS[metric](plan_columns(summary, job.plan_dir), int(summary["scenario"]["horizon"]))
        points.append({"value": value, "y": y, "status": views.status_words(job.state, job.exit_code, job.status,
                                                                                folder=job.plan_dir).text})
    done = len(points)
    st.caption(f"{done} of {len(study['points'])} points solved.")
    frame = pd.DataFrame(points, columns=["value", "y", "status"]).sort_values("value")
    figure = go.Figure(go.Scatter(x=frame["value"], y=frame["y"], mode="lines+markers", text=frame["status"]),
                       layout={"template": "plotly_white", "height": 360, "xaxis_title": study["key"],
                               "yaxis_title": metric, "margin": {"t": 20}})
    st.plotly_chart(figure, key="chart_sweep")
    st.dataframe(frame, hide_index=True, key="sweep_table")


# ---------------------------------------------------------------------------------------------- overview


def overview_section(svc: Services, scenario: Scenario | None, rows: list[RunRow]) -> None:
    st.subheader("Current scenario")
    if scenario is None:
        st.warning("The scenario settings are not valid (see Scenario).")
    else:
        facts = views.glance(scenario.to_raw())
        st.markdown("\n".join(f"- **{label}:** {value}" for label, value in facts.items()))
    inputs = state().get("inputs")
    st.markdown(f"**Input tables:** {inputs.label}" if inputs else "**Input tables:** none chosen yet (Data).")
    st.subheader("Latest run")
    if not rows:
        st.info("No run yet.")
        return
    latest = rows[0]
    words = views.status_words(latest.state, latest.exit_code, latest.status, latest.message,
                               svc.queue.position(latest.run_id), latest.folder)
    st.markdown(f"`{latest.run_id}` · {latest.scenario}" + (f" · by {latest.user}" if latest.user else "")
                + f" · {time.strftime('%Y-%m-%d %H:%M', time.localtime(latest.when))}")
    getattr(st, words.tone)(words.text)
    st.subheader("Runs")
    table = pd.DataFrame([{"run": row.run_id, "scenario": row.scenario, "outcome": row.outcome,
                           "approval": row.approval, "by": row.user,
                           "when": time.strftime("%Y-%m-%d %H:%M", time.localtime(row.when))} for row in rows])
    st.dataframe(table, hide_index=True, key="runs_table")


# ------------------------------------------------------------------------------------------------- page


def main() -> None:
    st.set_page_config(page_title="wfplan what-if", layout="wide")
    svc = services(settings_from_env())
    with st.sidebar:
        st.title("wfplan")
        st.text_input("Your name", key="user", help="recorded with the runs you start and the approvals you give")
        st.caption(f"Plans are written under {svc.settings.runs}; runs are recorded in {svc.queue.store.url}")
    rows = run_rows(svc.queue.snapshot(), svc.queue.store.runs(limit=RUNS_SHOWN))
    tabs = st.tabs(["Overview", "Data", "Scenario", "Run", "Results", "Compare", "Explore"])
    with tabs[1]:
        data_section(svc)
    with tabs[2]:
        scenario, request = scenario_section(rows)
    with tabs[0]:
        overview_section(svc, scenario, rows)
    with tabs[3]:
        run_section(svc, request)
    with tabs[4]:
        results_section(svc, rows)
    with tabs[5]:
        compare_section(svc, rows)
    with tabs[6]:
        explore_section(svc, request)


if __name__ == "__main__":  # Streamlit runs the script as __main__; worker processes import it as __mp_main__
    main()
