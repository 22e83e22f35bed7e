"""The JSON block behind report.html's action table (:func:`reports.action_table.action_data`), worked out by hand
on three rows: a grade step, a hire (no from-state) and a redundancy (no landing at all, so every ``to_`` column is
empty: the block must still be built)."""

from __future__ import annotations

import json

import pyarrow as pa

from reports.action_table import action_data

TEXT, NUMBER = pa.string(), pa.float64()


def _actions() -> pa.Table:
    rows = {
        "employee_id": (["E2", None, "E1"], TEXT),
        "name": (["王芳", None, "<b>"], TEXT),
        "action": (["grade_step", "hire", "redundancy"], TEXT),
        "from_unit": (["U1", None, "U2"], TEXT),
        "from_sequence": (["technical", None, "operations"], TEXT),
        "from_tier": ([3.0, None, 1.0], NUMBER),
        "from_grade": ([2.0, None, 5.0], NUMBER),
        "to_unit": ([None, None, None], TEXT),
        "to_sequence": ([None, None, None], TEXT),
        "to_tier": ([None, None, None], NUMBER),
        "to_grade": ([None, None, None], NUMBER),
        "old_salary": ([47619.575, None, 80000.004], NUMBER),
        "new_salary": ([18518.505, 60000.0, None], NUMBER),
        "reason": (["by merit", "hire", "bottom"], TEXT),
    }
    return pa.table({name: pa.array(values, type=kind) for name, (values, kind) in rows.items()})


def test_the_action_block_codes_repeated_texts_and_leaves_missing_values_empty() -> None:
    text = action_data(_actions(), {"U1": "钢联", "U2": ""})
    assert "<" not in text  # the block cannot end its script element
    block = json.loads(text)
    columns = {column["name"]: column for column in block["columns"]}
    assert block["rows"] == 3
    assert columns["employee"] == {"name": "employee", "kind": "text", "values": ["E2", None, "E1"]}
    assert columns["name"]["values"] == ["王芳", "", "<b>"]
    assert columns["action"]["labels"] == ["grade_step", "hire", "redundancy", None]
    assert columns["action"]["values"] == [0, 1, 2]
    assert columns["from unit"]["labels"] == ["U1 钢联", "U2", None]  # a unit without a name shows its id
    assert columns["from unit"]["values"] == [0, 2, 1]
    assert columns["from"]["labels"] == ["technical T3 G2", "operations T1 G5", None]
    assert columns["from"]["values"] == [0, 2, 1]
    assert columns["to unit"] == {"name": "to unit", "kind": "code", "values": [0, 0, 0], "labels": [None]}
    assert columns["to"] == {"name": "to", "kind": "code", "values": [0, 0, 0], "labels": [None]}
    # to the cent as Python's round(v, 2) has it: a half cent stored a hair below or above goes that way
    assert columns["old salary"]["values"] == [47619.57, None, 80000.0]
    assert columns["new salary"]["values"] == [18518.51, 60000.0, None]
