"""Generated documentation stays equal to what the code says, and no file cites a document outside the
repository."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from optimizer.model.reference import render_model_reference
from optimizer.plan.contract import render_outputs_reference

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_model_reference_is_generated_from_the_docstrings():
    assert (DOCS / "model.md").read_text(encoding="utf-8") == render_model_reference()


def test_outputs_reference_is_generated_from_the_plan_contract():
    assert (DOCS / "outputs.md").read_text(encoding="utf-8") == render_outputs_reference()


# ---------------------------------------------------------------- the docs stand alone

# Written so that this file does not match itself: the documents live outside the repository.
OUTSIDE = re.compile(r"DESIGN[.]md|STYLE[.]md|DEVELOPER[S]|[.][.]/shared")
TEXT_FILES = ("*.py", "*.md", "*.yaml", "*.toml", ".ci/*")


def outside_citations(paths: list[str]) -> list[str]:
    """``path:line: text`` for every line of ``paths`` that cites a document outside the repository."""
    found = []
    for path in paths:
        for number, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path}:{number}: {line.strip()}")
    return found


def tracked_text_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "--", *TEXT_FILES], cwd=ROOT, capture_output=True, text=True, check=True)
    return [p for p in listed.stdout.splitlines() if (ROOT / p).is_file()]


def test_no_tracked_text_file_cites_a_document_outside_the_repository():
    """Every fact a file relies on is in the repository (README.md, docs/, benchmarks/README.md) or stated
    inline: no file cites the external design or style notes, a developers' page or a shared folder."""
    paths = tracked_text_files()
    assert len(paths) > 50
    assert outside_citations(paths) == []


def test_the_citation_check_finds_each_kind_of_citation(tmp_path):
    """The pattern above catches what it is meant to (and this file does not cite anything itself)."""
    for cited in ("DESIGN" + ".md", "STYLE" + ".md", "DEVELOPER" + "S.md", "../" + "shared/notes.txt"):
        assert OUTSIDE.search(f"see {cited}, section 2")
    assert not OUTSIDE.search("see docs/decisions.md and README.md (the design is ours)")
