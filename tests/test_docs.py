"""Generated documentation stays equal to what the code says."""

from pathlib import Path

from optimizer.model.build import render_model_reference
from optimizer.plan.contract import render_outputs_reference

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_model_reference_is_generated_from_the_docstrings():
    assert (DOCS / "model.md").read_text(encoding="utf-8") == render_model_reference()


def test_outputs_reference_is_generated_from_the_plan_contract():
    assert (DOCS / "outputs.md").read_text(encoding="utf-8") == render_outputs_reference()
