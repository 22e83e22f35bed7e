"""The year-1 action list of report.html: every row of ``actions.csv``, searchable and sortable in the page.

The rows travel as one JSON block (repeated texts — units, actions, states — stored once and referred to by
number), and a small script filters, sorts and shows them a page at a time, so a plan of 100,000 people opens
and answers a search at once: the page never holds more than one page of table rows. The search matches every
word typed (any order, case-insensitive) against the employee id, the name, the action and the from- and to-unit
ids and names; a click on a column heading sorts by it (again: the other way). Once a search has been applied,
the table's ``data-query`` holds its text. Text from the data reaches the
page only as JSON text and ``textContent``, never as HTML, and the JSON block cannot end the script element
(``<`` is written ``\\u003c``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa

COLUMNS = (("employee_id", "employee", "text"), ("name", "name", "text"), ("action", "action", "code"),
           ("from_unit_label", "from unit", "code"), ("from_state", "from", "code"),
           ("to_unit_label", "to unit", "code"), ("to_state", "to", "code"),
           ("old_salary", "old salary", "money"), ("new_salary", "new salary", "money"))
"""(field, heading, how it is stored): text per row, ``code`` a number into a list of the distinct texts, money."""
PAGE_ROWS = 100

SCRIPT = r"""
(function () {
  const data = JSON.parse(document.getElementById('action-data').textContent);
  const cols = data.columns, n = data.rows;
  const value = (c, i) => cols[c].kind === 'code' ? cols[c].labels[cols[c].values[i]] : cols[c].values[i];
  const hay = new Array(n);
  for (let i = 0; i < n; i++) {
    let text = '';
    for (let c = 0; c < cols.length; c++) if (cols[c].kind !== 'money') text += ' ' + (value(c, i) || '');
    hay[i] = text.toLowerCase();
  }
  const input = document.getElementById('action-search'), body = document.querySelector('#action-table tbody');
  const count = document.getElementById('action-count'), heads = document.querySelectorAll('#action-table th');
  let shown = [...Array(n).keys()], page = 0, sortCol = -1, sortDir = 1;
  const money = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
  function render() {
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    const start = page * PAGE, rows = shown.slice(start, start + PAGE), frag = document.createDocumentFragment();
    for (const i of rows) {
      const tr = document.createElement('tr');
      for (let c = 0; c < cols.length; c++) {
        const td = document.createElement('td'), v = value(c, i);
        if (cols[c].kind === 'money') { td.className = 'num'; td.textContent = v === null ? '—' : money.format(v); }
        else td.textContent = v === null || v === '' ? '—' : v;
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    count.textContent = shown.length ? `rows ${start + 1}–${start + rows.length} of ${shown.length.toLocaleString('en-US')}`
      + (shown.length < n ? ` (filtered from ${n.toLocaleString('en-US')})` : '') : `no row matches (of ${n.toLocaleString('en-US')})`;
  }
  function filter() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = [];
    for (let i = 0; i < n; i++) if (words.every(w => hay[i].includes(w))) shown.push(i);
    sort(false);
    page = 0; render();
    document.getElementById('action-table').dataset.query = input.value;
  }
  function sort(flip) {
    if (sortCol < 0) return;
    const c = sortCol, key = i => value(c, i);
    shown.sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === y) return a - b;
      if (x === null || x === '') return 1;
      if (y === null || y === '') return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
  }
  heads.forEach((th, c) => th.addEventListener('click', () => {
    sortDir = sortCol === c ? -sortDir : 1; sortCol = c;
    heads.forEach(h => h.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
    sort(true); page = 0; render();
  }));
  let timer = null;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(filter, 120); });
  document.getElementById('action-prev').addEventListener('click', () => { page = Math.max(0, page - 1); render(); });
  document.getElementById('action-next').addEventListener('click', () => { page += 1; render(); });
  render();
})();
"""


def _coded(keys: pd.DataFrame, label: Callable[[pd.DataFrame], pd.Series]) -> dict:
    """A ``code`` column of the JSON block from the key columns it labels: each row's number into the list of
    distinct labels (first-seen order, then None for rows with no label), every distinct key labelled once by
    ``label`` (a frame of distinct keys → their labels, missing where there is none): a million actions have a
    few hundred distinct states, so the texts are built a few hundred times, not a million."""
    group = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    distinct = keys.iloc[np.unique(group, return_index=True)[1]]
    texts = label(distinct)
    present = texts.notna().to_numpy()
    number = np.full(len(distinct), present.sum(), dtype=np.int64)
    number[present] = np.arange(present.sum())
    return {"kind": "code", "values": number[group].tolist(), "labels": [*texts[present].tolist(), None]}


def _unit_labels(units: pd.DataFrame, names: dict[str, str]) -> pd.Series:
    """``<unit id> <name>`` of each row of ``units`` (one column of unit ids; missing where the id is)."""
    unit = units.iloc[:, 0]
    return pd.Series([f"{u} {names.get(u, '')}".strip() if isinstance(u, str) else None for u in unit],
                     index=units.index, dtype=object)


def _state_labels(states: pd.DataFrame) -> pd.Series:
    """``<sequence> T<tier> G<grade>`` of each row of ``states`` (sequence, tier, grade; missing where any is)."""
    return pd.Series([f"{s} T{k:.0f} G{g:.0f}" if isinstance(s, str) and k == k and g == g else None
                      for s, k, g in states.itertuples(index=False)], index=states.index, dtype=object)


def _money(values: pd.Series) -> dict:
    """A ``money`` column of the JSON block: amounts rounded to the cent as Python's ``round(v, 2)`` rounds them
    (correctly rounded), None where missing. Rounded as arrays, but for the amounts within a hair of a half cent,
    where ``x·100`` may land on the other side of the half: those few by ``round`` itself."""
    number = values.to_numpy(dtype=float, na_value=np.nan)
    rounded = np.round(number, 2)
    cents = np.abs(number * 100.0)
    near_half = np.flatnonzero(np.abs(cents - np.floor(cents) - 0.5) < 1e-6)
    rounded[near_half] = [round(float(v), 2) for v in number[near_half]]
    listed = rounded.astype(object)
    listed[np.isnan(number)] = None
    return {"kind": "money", "values": listed.tolist()}


def action_data(actions: pa.Table, names: dict[str, str]) -> str:
    """The JSON block of every action (``actions.csv`` read as Arrow), safe inside a ``<script>`` element."""
    frame = actions.select([c for c in actions.column_names if c != "reason"]).to_pandas()

    def state(prefix: str) -> pd.DataFrame:
        return frame[[f"{prefix}sequence", f"{prefix}tier", f"{prefix}grade"]]

    columns = {
        "employee_id": {"kind": "text", "values": _texts(frame["employee_id"])},
        "name": {"kind": "text", "values": frame["name"].fillna("").tolist()},
        "action": _coded(frame[["action"]], lambda rows: rows["action"]),
        "from_unit_label": _coded(frame[["from_unit"]], partial(_unit_labels, names=names)),
        "from_state": _coded(state("from_"), _state_labels),
        "to_unit_label": _coded(frame[["to_unit"]], partial(_unit_labels, names=names)),
        "to_state": _coded(state("to_"), _state_labels),
        "old_salary": _money(frame["old_salary"]),
        "new_salary": _money(frame["new_salary"]),
    }
    block = {"rows": actions.num_rows,
             "columns": [{"name": heading, **columns[field]} for field, heading, _ in COLUMNS]}
    return json.dumps(block, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _texts(values: pd.Series) -> list[str | None]:
    """A ``text`` column's values, None where missing."""
    return values.astype(object).where(values.notna(), None).tolist()


def action_table_html(actions: pa.Table, names: dict[str, str]) -> str:
    """The search box, the table (filled by the script), paging buttons, the data and the script."""
    headings = "".join(f'<th{" class=num" if kind == "money" else ""} title="click to sort">{heading}</th>'
                       for _, heading, kind in COLUMNS)
    return (
        '<p class="note">Every year-1 action (actions.csv). Type to filter: every word must match the employee id, '
        "name, action or a unit's id or name; click a heading to sort.</p>"
        '<p><input id="action-search" type="search" placeholder="search: unit, name, action…" size="40" '
        'aria-label="search the actions"> <button id="action-prev" type="button">previous</button> '
        '<button id="action-next" type="button">next</button> <span id="action-count"></span></p>'
        f'<div class="wide"><table id="action-table"><thead><tr>{headings}</tr></thead><tbody></tbody></table></div>'
        f'<script type="application/json" id="action-data">{action_data(actions, names)}</script>'
        f"<script>const PAGE = {PAGE_ROWS};{SCRIPT}</script>"
    )
