"""Reading YAML strictly and writing files atomically."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError as PydanticValidationError

from .errors import MISSING, Problem

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser is ~10x faster
    """Safe loader that keeps dates as text (pydantic parses them) and rejects duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable key: SafeLoader reports it itself
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep)


BOOL_TAG = "tag:yaml.org,2002:bool"
# Dates stay text; only true/false are booleans (YAML 1.2): `on:`, `yes`, `no` stay text, as a school writes them.
StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (TIMESTAMP_TAG, BOOL_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def parse_yaml(text: str, name: str) -> tuple[Any, list[Problem]]:
    """Parse YAML text; syntax errors become a Problem naming the line."""
    try:
        return yaml.load(text, Loader=StrictLoader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(name, where, MISSING, f"not valid YAML: {reason}")]


def read_yaml(path: Path) -> tuple[Any, list[Problem]]:
    """Read a UTF-8 YAML file; unreadable files, bad encodings and bad syntax become Problems."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, [Problem(name, "", MISSING, f"cannot read file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1]
        return None, [Problem(name, f"byte {exc.start}", bad, "file must be UTF-8 text")]
    return parse_yaml(text, name)


def pydantic_problems(exc: PydanticValidationError, file: str) -> list[Problem]:
    """Turn pydantic's errors into Problems with dotted key paths."""
    problems = []
    for err in exc.errors(include_url=False):
        path = key_path(part for part in err["loc"] if part != "[key]")
        value = MISSING if err["type"] == "missing" else err.get("input")
        problems.append(Problem(file, path, value, _message(err)))
    return problems


def key_path(parts: Iterable[str | int]) -> str:
    """`risks.identity-theft.measures_planned[0].due` from its parts."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key; remove it or check its spelling"
    if err["type"] == "missing":
        return "required key is missing"
    return err["msg"].removeprefix("Value error, ")


class _Dumper(yaml.SafeDumper):
    """Safe dumper that double-quotes text with a NEL (U+0085): in other styles PyYAML reads it back as a space."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        return self.represent_scalar("tag:yaml.org,2002:str", data, style='"' if "\x85" in data else None)


_Dumper.add_representer(str, _Dumper.represent_str)


def dump_yaml(data: Any) -> str:
    """YAML text in a stable, readable form (key order kept, unicode as is) that reads back to the same data."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temp file in the same folder and rename: readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
