"""Scenario files: read YAML, follow ``extends:``, apply ``--set key.path=value`` overrides, validate.

An unknown or misspelt key is an error that names the nearest valid key. ``extends:`` names another
scenario file (relative to this one) whose values this file overrides key by key; overrides are applied
last, type-checked, and recorded in :attr:`models.scenario.Scenario.applied_overrides`. Every problem of
one file is reported at once (:class:`models.scenario.ScenarioError`).
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from models.scenario import (
    KIND_LABELS,
    KIND_SECTIONS,
    Scenario,
    ScenarioError,
    kind_problems,
    raw_kind,
    year_problems,
)
from models.tables import bound_text


def _raw_year_problems(raw: dict[str, Any], errors: list[dict[str, Any]]) -> list[str]:
    """:func:`models.scenario.year_problems` on an unvalidated scenario (defaults where a key is absent,
    keys with errors of their own skipped), so that these rules are reported together with field errors,
    which stop pydantic before the model validator runs."""
    defaults = Scenario()
    failed = {tuple(err["loc"][:2]) for err in errors} | {tuple(err["loc"][:1]) for err in errors}
    mix = raw.get("mix") if isinstance(raw.get("mix"), dict) else {}
    budget = raw.get("budget") if isinstance(raw.get("budget"), dict) else {}
    grading = raw.get("unit_grading") if isinstance(raw.get("unit_grading"), dict) else {}
    values = {
        ("horizon",): raw.get("horizon", defaults.horizon),
        ("mix", "deadline"): mix.get("deadline", defaults.mix.deadline),
        ("budget", "caps"): budget.get("caps", defaults.budget.caps),
        ("unit_grading", "reviews"): grading.get("reviews"),
    }
    return year_problems(*(None if loc in failed else value for loc, value in values.items()))


def _valid_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        keys.append(path)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(_valid_keys(annotation, path + "."))
    return keys


VALID_KEYS = _valid_keys(Scenario)


def _nearest_key(path: str) -> str:
    close = difflib.get_close_matches(path, VALID_KEYS, n=1, cutoff=0.5)
    if not close:
        leaf = path.rsplit(".", 1)[-1]
        close = difflib.get_close_matches(leaf, [k.rsplit(".", 1)[-1] for k in VALID_KEYS], n=1, cutoff=0.5)
        close = [k for k in VALID_KEYS if k.rsplit(".", 1)[-1] == close[0]][:1] if close else []
    return f"; did you mean '{close[0]}'?" if close else ""


def unknown_key_problem(dotted: str, where: str) -> str | None:
    """``unknown key '<dotted>' in <where>; did you mean ...`` when ``dotted`` is not a scenario key (nor
    inside one, like ``budget.caps.2``), else None."""
    if any(k == dotted or dotted.startswith(k + ".") for k in VALID_KEYS):
        return None
    return f"unknown key '{dotted}' in {where}{_nearest_key(dotted)}"


def _describe(errors: list[dict[str, Any]]) -> list[str]:
    """One line per pydantic error, naming the dotted key (``budget.caps.2``) and the value refused."""
    problems = []
    for err in errors:
        loc = [str(part) for part in err["loc"]]
        if loc[-1:] == ["[key]"]:  # the key of a map (a year, a tier) is out of its domain, not its value
            loc[-1:] = []
            loc[-1] += " (the key)"
        path = ".".join(loc)
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key '{path}'{_nearest_key(path)}")
        else:
            shown = err.get("input")
            value = f" (got {shown!r})" if not isinstance(shown, dict | list) else ""
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{path or '<scenario>'}: {message}{value}")
    return problems


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    """The mapping a scenario file holds; a file that is missing, a folder, unreadable, not UTF-8 text or
    not a YAML mapping is a :class:`ScenarioError` naming the file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), ["file not found"]) from None
    except IsADirectoryError:
        raise ScenarioError(str(path), ["is a folder, not a scenario file"]) from None
    except OSError as exc:
        raise ScenarioError(str(path), [f"cannot be read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), [f"not UTF-8 text (byte {exc.start}); is it a scenario file?"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), [f"not valid YAML: {exc}"]) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ScenarioError(str(path), ["top level must be a mapping of keys to values"])
    return raw


def _resolve_extends(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The scenario file at ``path`` merged over the files it ``extends``, ``data`` made absolute; a cycle, or
    an ``extends`` that is not the name of an existing file, is a :class:`ScenarioError` naming the file
    (a ``data`` that is not text is left to the schema, which names the key). A section only the other kind
    of scenario reads, inherited from a parent, is dropped (an own ladder may extend a graded scenario for its
    solver settings); one written in this file stays, and is refused with the other kind problems."""
    path = path.resolve()
    if path in seen:
        raise ScenarioError(str(path), ["'extends' forms a cycle: " + " → ".join(str(p) for p in (*seen, path))])
    raw = _read_yaml(path)
    if isinstance(raw.get("data"), str) and not Path(raw["data"]).is_absolute():
        raw["data"] = str((path.parent / raw["data"]).resolve())
    parent = raw.get("extends")
    if parent is None:
        return raw
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(str(path), [f"extends: must name a scenario file (a relative path), got {parent!r}"])
    if not (path.parent / parent).is_file():
        raise ScenarioError(str(path), [f"extends: parent scenario '{parent}' not found ({path.parent / parent})"])
    base = _resolve_extends(path.parent / parent, (*seen, path))
    merged = _deep_merge(base, raw)
    kind = raw_kind(merged)
    for section in KIND_SECTIONS["ladder" if kind == "graded" else "graded"]:
        if section not in raw:  # inherited from a parent of the other kind: not this file's to answer for
            merged.pop(section, None)
    return merged


def _outside_brackets(text: str, char: str) -> list[int]:
    """Positions of ``char`` in ``text`` that are not inside ``[...]``."""
    depth, found = 0, []
    for i, c in enumerate(text):
        depth += (c == "[") - (c == "]")
        if c == char and depth == 0:
            found.append(i)
    return found


def split_key(key: str) -> list[str]:
    """``a.b[unit=U.1,year=3].c`` → ``["a", "b[unit=U.1,year=3]", "c"]``: dots inside a selector do not split."""
    cuts = [-1, *_outside_brackets(key, "."), len(key)]
    return [key[start + 1:end].strip() for start, end in zip(cuts, cuts[1:])]


def split_assignment(text: str) -> tuple[str, str] | None:
    """``key=value`` at the first ``=`` outside a selector's brackets; None without one."""
    cuts = _outside_brackets(text, "=")
    return None if not cuts else (text[:cuts[0]], text[cuts[0] + 1:])


def plain_key(key: str) -> str:
    """The scenario key without its selectors: ``unit_grading.reviews[unit=U1,year=3].grade`` →
    ``unit_grading.reviews.grade``."""
    return re.sub(r"\[[^\]]*\]", "", key)


def _selector(part: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """``reviews[unit=U1,year=3]`` → ("reviews", {"unit": "U1", "year": "3"}) (values as written: the schema
    types them, so a unit ``007`` stays text); None for a plain part; a malformed selector is a
    :class:`ScenarioError`."""
    if "[" not in part and "]" not in part:
        return None
    match = re.fullmatch(r"([^\[\]]+)\[([^\[\]]+)\]", part)
    fields = [field.partition("=") for field in match.group(2).split(",")] if match else []
    if not match or any(not sep or not name.strip() or not value.strip() for name, sep, value in fields):
        raise ScenarioError("--set", [f"'{key}': '{part}' must look like list[field=value,...], e.g. "
                                      "unit_grading.reviews[unit=U07,year=3].grade"])
    return match.group(1), {name.strip(): value.strip() for name, _, value in fields}


def _matches(record: Any, fields: dict[str, Any]) -> bool:
    return isinstance(record, dict) and all(str(record.get(name)) == str(value) for name, value in fields.items())


def lookup(raw: Any, key: str) -> Any:
    """The value at ``key`` (with selectors) in a scenario mapping; None where absent."""
    node = raw
    for part in split_key(key):
        selected = _selector(part, key)
        name = part if selected is None else selected[0]
        node = node.get(int(name) if name.isdigit() else name) if isinstance(node, dict) else None
        if selected is not None:
            node = next((r for r in node if _matches(r, selected[1])), None) if isinstance(node, list) else None
    return node


def parse_override(text: str) -> tuple[list[str], Any]:
    """``key.path=value`` → (["key", "path"], value parsed as YAML: numbers, booleans, lists, maps). A part of
    the path may select a record of a list by its fields, ``list[field=value,...]``
    (:func:`_apply_override`)."""
    parts = split_assignment(text)
    if parts is None:
        raise ScenarioError("--set", [f"override '{text}' must look like key.path=value"])
    key, value = parts
    if not value.strip():
        return split_key(key.strip()), None
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value  # not YAML: kept as text, so the key's type check reports it with the others
    return split_key(key.strip()), parsed


def _apply_override(raw: dict[str, Any], path: list[str], value: Any) -> Any:
    """Set raw[path] = value; returns the previous value (None when absent). A part ``name[field=value,...]``
    goes into the record of list ``name`` whose fields have those values, added to the list (with those fields)
    when it has none: ``unit_grading.reviews[unit=U07,year=3].grade=A`` adds or changes that review."""
    node = raw
    dotted = ".".join(path)
    for part in path[:-1]:
        selected = _selector(part, dotted)
        if selected is None:
            node = node.setdefault(part, {})
        else:
            name, fields = selected
            records = node.setdefault(name, [])
            if not isinstance(records, list):
                raise ScenarioError("--set", [f"'{dotted}': '{name}' is not a list of records"])
            node = next((r for r in records if _matches(r, fields)), None)
            if node is None:
                node = dict(fields)
                records.append(node)
        if not isinstance(node, dict):
            raise ScenarioError("--set", [f"'{dotted}': '{part}' is not a section"])
    key: Any = path[-1]
    if key.isdigit():
        key = int(key)
    previous = node.get(key)
    node[key] = value
    return previous


def build_scenario(raw: dict[str, Any], source: str, overrides: list[str] = ()) -> Scenario:
    """Validate ``raw`` (after applying ``overrides``) into a Scenario, or raise ScenarioError."""
    raw = copy.deepcopy(raw)  # overrides must not change the caller's dictionary
    problems: list[str] = []
    log: list[str] = list(raw.pop("applied_overrides", []) or [])
    seen_keys: set[str] = set()
    defaults = Scenario().model_dump()
    for text in overrides:
        try:
            path, value = parse_override(text)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        dotted = ".".join(path)
        if dotted in seen_keys:
            problems.append(f"override '{dotted}' is given twice")
            continue
        seen_keys.add(dotted)
        unknown = unknown_key_problem(plain_key(dotted), "--set")
        if unknown:
            problems.append(unknown)
            continue
        try:
            previous = _apply_override(raw, path, value)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        if previous is None:
            previous = lookup(defaults, dotted)
        log.append(f"{dotted}: {previous!r} → {value!r}")
    raw["applied_overrides"] = log
    problems += kind_problems(raw)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:  # reported together with the problems of the overrides
        problems += _describe(exc.errors())
        if not any(err["loc"] == () for err in exc.errors()):  # the model validator did not run
            problems += [f"<scenario>: {p}" for p in _raw_year_problems(raw, exc.errors())]
    if problems:
        raise ScenarioError(source, problems) from None
    return scenario


def load_scenario(path: str | Path | None, overrides: list[str] = ()) -> Scenario:
    """Read a scenario file (following ``extends``), apply overrides, validate everything at once."""
    if path is None:
        return build_scenario({}, "<defaults>", overrides)
    return build_scenario(_resolve_extends(Path(path)), str(path), overrides)


def scenario_path(name: str) -> Path:
    """Path of a scenario shipped with the project (``baseline`` → scenarios/baseline.yaml)."""
    import scenarios

    return Path(scenarios.__file__).parent / f"{name}.yaml"


def scenario_source(name_or_path: str | Path) -> Path:
    """The file a scenario argument names: an existing path as given, else the shipped scenario of that name
    when there is one, else the path as given (which :func:`load_scenario` reports as not found)."""
    path = Path(name_or_path)
    if not path.exists() and scenario_path(str(name_or_path)).exists():
        return scenario_path(str(name_or_path))
    return path


def _domain(metadata: Sequence[Any]) -> str:
    """The bounds among pydantic field constraints: ``1..20``, ``≥ 0``, ``> 0 and ≤ 86400``, ``≤ 20 items``."""
    names = ("ge", "gt", "le", "min_length", "max_length")
    bound = {name: getattr(item, name) for item in metadata for name in names if getattr(item, name, None) is not None}
    if "ge" in bound and "le" in bound:
        parts = [f"{bound_text(bound['ge'])}..{bound_text(bound['le'])}"]
    else:
        signs = (("ge", "≥"), ("gt", ">"), ("le", "≤"))
        parts = [f"{sign} {bound_text(bound[name])}" for name, sign in signs if name in bound]
    sizes = [f"{sign} {bound[name]} items" for name, sign in (("min_length", "≥"), ("max_length", "≤")) if name in bound]
    return ", ".join(part for part in (" and ".join(parts), *sizes) if part)


def _type_name(annotation: Any, metadata: Sequence[Any] = ()) -> str:
    """A key's type as the reference shows it, with its domain: ``int 1..64``, ``dict[int 1..15, float ≥ 0]``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0], [*metadata, *(m for info in args[1:] for m in getattr(info, "metadata", []))])
    if origin in (dict, list):
        text = f"{origin.__name__}[{', '.join(_type_name(arg) for arg in args)}]"
    elif origin in (Union, UnionType):  # the domain bounds the value, not None
        return " or ".join("None" if arg is NoneType else _type_name(arg, metadata) for arg in args)
    elif isinstance(annotation, type):
        text = annotation.__name__
    else:
        text = str(annotation).replace("typing.", "").replace("models.scenario.", "")
    domain = _domain(metadata)
    return f"{text} {domain}" if domain else text


def render_scenario_reference() -> str:
    """Markdown reference of every scenario key (docs/scenarios.md is exactly this text)."""
    defaults = Scenario().model_dump(mode="json")
    lines = [
        "# Scenario keys",
        "",
        "Generated from the schema in `models/scenario.py` by `models.scenario_files.render_scenario_reference()`;",
        "`wfplan` refuses any key not listed here and names the nearest valid one. A file may `extends:` another;",
        "`--set key.path=value` overrides are type-checked and recorded in `summary.json` under",
        "`scenario.applied_overrides`.",
        "",
        "A scenario is *graded* (planned from input tables) or an *own ladder* (it lists `categories.levels` and",
        "reads no input tables). Keys only one kind reads: "
        + "; ".join(f"{KIND_LABELS[kind].split(' (')[0].removeprefix('a ').removeprefix('an ')}: "
                    + ", ".join(f"`{key}`" for key in keys) for kind, keys in KIND_SECTIONS.items())
        + ". Such a key in a scenario of the other kind is an error that names it.",
        "",
    ]

    def section(model: type[BaseModel], path: list[str]) -> None:
        doc = (model.__doc__ or "").strip().splitlines()
        lines.extend([f"## `{'.'.join(path) or 'top level'}`", "", *doc[:1], ""])
        lines.extend(["| key | type | default | description |", "| --- | --- | --- | --- |"])
        nested = []
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                nested.append((annotation, [*path, name]))
                continue
            default: Any = defaults
            for part in (*path, name):
                default = default[part]
            shown = json.dumps(default, ensure_ascii=False).replace("|", "\\|")
            lines.append(f"| `{'.'.join((*path, name))}` | {_type_name(annotation, info.metadata)} | `{shown}` | {(info.description or '').replace('|', chr(92) + '|')} |")
        lines.append("")
        for child, child_path in nested:
            section(child, child_path)

    section(Scenario, [])
    return "\n".join(lines)
