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


def _labels(table: pa.Table, prefix: str, names: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """(``<unit id> <name>``, ``<sequence> T<tier> G<grade>``) of the ``prefix`` state (None where it is empty)."""
    unit = table[f"{prefix}unit"].to_pandas()
    name = unit.map(names).fillna("")
    label = (unit + " " + name).str.strip().where(unit.notna(), None)
    tier = table[f"{prefix}tier"].to_pandas()
    grade = table[f"{prefix}grade"].to_pandas()
    sequence = table[f"{prefix}sequence"].to_pandas()
    state = (sequence + " T" + tier.map("{:.0f}".format, na_action="ignore") + " G"
             + grade.map("{:.0f}".format, na_action="ignore")).where(sequence.notna(), None)
    return label, state


def _column(values: pd.Series, kind: str) -> dict:
    """One column of the JSON block: texts, numbers (None where missing) or codes into ``labels``."""
    if kind == "code":
        codes, labels = pd.factorize(values, use_na_sentinel=True)
        labels = [*labels.tolist(), None]
        return {"kind": kind, "values": np.where(codes < 0, len(labels) - 1, codes).tolist(), "labels": labels}
    if kind == "money":
        number = values.astype(float)
        return {"kind": kind, "values": [None if np.isnan(v) else round(v, 2) for v in number.tolist()]}
    return {"kind": kind, "values": values.where(values.notna(), None).tolist()}


def action_data(actions: pa.Table, names: dict[str, str]) -> str:
    """The JSON block of every action (``actions.csv`` read as Arrow), safe inside a ``<script>`` element."""
    from_label, from_state = _labels(actions, "from_", names)
    to_label, to_state = _labels(actions, "to_", names)
    fields = {
        "employee_id": actions["employee_id"].to_pandas(), "name": actions["name"].to_pandas().fillna(""),
        "action": actions["action"].to_pandas(), "from_unit_label": from_label, "from_state": from_state,
        "to_unit_label": to_label, "to_state": to_state, "old_salary": actions["old_salary"].to_pandas(),
        "new_salary": actions["new_salary"].to_pandas(),
    }
    block = {"rows": actions.num_rows,
             "columns": [{"name": heading, **_column(fields[field], kind)} for field, heading, kind in COLUMNS]}
    return json.dumps(block, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


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
