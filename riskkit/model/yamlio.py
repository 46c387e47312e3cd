"""Reading YAML strictly and writing files atomically."""

from __future__ import annotations

import datetime
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Bounds:
    """Sane limits for a YAML file riskkit reads, checked on the parser's events before anything is built.

    Values reached through aliases count as often as they are used, so a 1 KB file of nested aliases ("billion
    laughs") is refused before it is built, let alone validated or printed.
    """

    max_bytes: int = 4_000_000
    max_depth: int = 32
    max_nodes: int = 200_000
    max_chars: int = 100_000


BOUNDS = Bounds()
# Up to this many characters a text is composed first and its bounds checked on the composed nodes (one parse: about
# twice as fast for a school file); a longer text is checked on the parser's stream first, so a 4 MB file of two
# million values is refused after 200,000 of them instead of being built (composing it takes ~600 MB).
COMPOSE_FIRST = 100_000


def _exceeds(root: yaml.Node, bounds: Bounds) -> bool:
    """Whether a composed document exceeds a bound: the values and height of each node, counted once per use (a node
    reached through an alias is the same node, so its counts are remembered; one still open counts as one value)."""
    sizes: dict[int, tuple[int, int]] = {}
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, closing = todo.pop()
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > bounds.max_chars:
                return True
            sizes[id(node)] = (1, 0)
            continue
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else node.value
        if closing:
            count = 1 + sum(sizes[id(child)][0] for child in children)
            height = 1 + max((sizes[id(child)][1] for child in children), default=0)
            if count > bounds.max_nodes or height > bounds.max_depth:
                return True
            sizes[id(node)] = (count, height)
        elif id(node) not in sizes:
            sizes[id(node)] = (1, 0)
            todo.append((node, True))
            todo.extend((child, False) for child in children)
    return False


def _bounds_problem(text: str, name: str, bounds: Bounds) -> Problem | None:
    """The first bound the text exceeds, located by line and column; None when it stays within all of them.

    One pass over libyaml's events: an anchored node's size and height are remembered when it closes, and each
    alias adds them again, so the counts are those of the data as Python would see it.
    """
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, height)
    stack: list[list] = []  # per open collection: [anchor, values before it, height of its contents]
    total = 0
    for event in yaml.parse(text, Loader=StrictLoader):
        where = f"line {event.start_mark.line + 1}, column {event.start_mark.column + 1}"
        height = 0
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            total += 1
            stack.append([event.anchor, total - 1, 0])
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, before, inner = stack.pop()
            height = inner + 1
            if anchor:
                anchors[anchor] = (total - before, height)
        elif isinstance(event, yaml.ScalarEvent):
            if len(event.value) > bounds.max_chars:
                return Problem(name, where, MISSING,
                               f"text of {len(event.value)} characters; at most {bounds.max_chars} allowed")
            total += 1
            if event.anchor:
                anchors[event.anchor] = (1, 0)
        elif isinstance(event, yaml.AliasEvent):
            count, height = anchors.get(event.anchor, (1, 0))
            total += count
        if stack and not isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            stack[-1][2] = max(stack[-1][2], height)
        if total > bounds.max_nodes:
            return Problem(name, where, MISSING,
                           f"too many values (aliases expanded): at most {bounds.max_nodes} allowed")
        if len(stack) + (height if isinstance(event, yaml.AliasEvent) else 0) > bounds.max_depth:
            return Problem(name, where, MISSING, f"nested too deeply: at most {bounds.max_depth} levels allowed")
    return None


def parse_yaml(text: str, name: str, bounds: Bounds = BOUNDS) -> tuple[Any, list[Problem]]:
    """Parse YAML text within `bounds`; syntax errors and exceeded bounds become a Problem naming the line."""
    try:
        if len(text) > bounds.max_bytes:
            return None, [Problem(name, "", MISSING, f"file too large: at most {bounds.max_bytes} bytes allowed")]
        if len(text) > COMPOSE_FIRST and (problem := _bounds_problem(text, name, bounds)):
            return None, [problem]
        loader = StrictLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, []
            if _exceeds(node, bounds) and (problem := _bounds_problem(text, name, bounds)):  # the stream places it
                return None, [problem]
            return loader.construct_document(node), []
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(name, where, MISSING, f"not valid YAML: {reason}")]
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        return None, [Problem(name, "", MISSING, f"not valid YAML: {str(exc).split(';')[0]}")]


def read_yaml(path: Path, bounds: Bounds = BOUNDS) -> tuple[Any, list[Problem]]:
    """Read a UTF-8 YAML file within `bounds`; unreadable, too large, bad encodings and bad syntax become Problems."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(bounds.max_bytes + 1)
    except OSError as exc:
        return None, [Problem(name, "", MISSING, f"cannot read file: {exc.strerror}")]
    if len(raw) > bounds.max_bytes:
        return None, [Problem(name, "", MISSING, f"file too large: at most {bounds.max_bytes} bytes allowed")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1]
        return None, [Problem(name, f"byte {exc.start}", bad, "file must be UTF-8 text")]
    return parse_yaml(text, name, bounds)


def pydantic_problems(exc: PydanticValidationError, file: str) -> list[Problem]:
    """Turn pydantic's errors into Problems with dotted key paths."""
    problems = []
    for err in exc.errors(include_url=False):
        path = key_path(part for part in err["loc"] if part != "[key]")
        value = MISSING if err["type"] == "missing" else err.get("input")
        ctx = tuple((key, _context(item)) for key, item in err.get("ctx", {}).items())
        problems.append(Problem(file, path, value, _message(err), err["type"], ctx))
    return problems


def _context(value: Any) -> str:
    """A value of pydantic's error context as text (`expected` is already text; an `error` is an exception)."""
    return value if isinstance(value, str) else str(value)


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


WIDTH = 1_000_000  # one value, one line: long text is never folded, so a changed text is a one-line diff


def dump_yaml(data: Any) -> str:
    """YAML text in a stable, readable form (key order kept, unicode as is) that reads back to the same data."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=WIDTH)


def update_yaml(previous: str, data: dict, defaults: dict | None = None) -> str:
    """YAML text for `data` that changes `previous` (a file's text) only where the data differ: changed values are
    replaced in place, new keys added, removed keys deleted; comments, key order, quoting and flow style stay.
    `defaults`: the same data with the default values `data` leaves out; a key the file writes with its default
    value stays.

    With ruamel.yaml's round-trip mode; whatever it cannot keep (no mapping, not parseable, or a result the strict
    reader would read differently) is written anew in riskkit's stable style (`dump_yaml`).
    """
    from io import StringIO

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError as RuamelError

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    try:
        tree = rt.load(previous)
    except (RuamelError, ValueError):
        return dump_yaml(data)
    if not isinstance(tree, dict) or not isinstance(data, dict):
        return dump_yaml(data)
    offset = _sequence_offset(previous)
    rt.indent(mapping=2, sequence=offset + 2, offset=offset)
    _merge_mapping(tree, data, defaults or {})
    rt.width = WIDTH
    out = StringIO()
    rt.dump(tree, out)
    text = out.getvalue()
    read, problems = parse_yaml(text, "")
    return text if not problems and read == _plain(tree) else dump_yaml(data)


def _plain(value: Any) -> Any:
    """ruamel's values as the strict reader reads them: plain dicts, lists, text (dates too), numbers."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


def _sequence_offset(text: str) -> int:
    """How far the file indents a block list's dashes under its key (0 or 2; riskkit writes 0)."""
    previous = ""
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if stripped.startswith("- ") and previous.rstrip().endswith(":"):
            return max(0, min(2, (len(line) - len(stripped)) - (len(previous) - len(previous.lstrip(" ")))))
        if stripped and not stripped.startswith("#"):
            previous = line
    return 0


def _merge_mapping(old: dict, new: dict, defaults: dict) -> None:
    for key in [k for k in old if k not in new]:
        default = defaults.get(key) if isinstance(defaults, dict) else None
        if _plain(old[key]) != default and old[key] not in (None, [], {}, ""):  # a default written out stays
            del old[key]
    for key, value in new.items():
        if key in old:
            old[key] = _merged(old[key], value, defaults.get(key) if isinstance(defaults, dict) else None)
        else:
            old[key] = _fresh(value)


def _merged(old: Any, new: Any, defaults: Any = None) -> Any:
    """`old` changed into `new`, keeping what is the same (and with it its comments and style)."""
    if isinstance(old, dict) and isinstance(new, dict):
        _merge_mapping(old, new, defaults if isinstance(defaults, dict) else {})
        return old
    if isinstance(old, list) and isinstance(new, list):
        for i, value in enumerate(new[: len(old)]):
            old[i] = _merged(old[i], value, defaults[i] if isinstance(defaults, list) and i < len(defaults) else None)
        del old[len(new):]
        old.extend(_fresh(value) for value in new[len(old):])
        return old
    if _same(old, new):
        return old
    return _fresh(new)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, datetime.date):  # an unquoted date in the file: text to riskkit's reader
        return isinstance(new, str) and old.isoformat() == new
    kinds = (bool, str, float)
    return all(isinstance(old, kind) == isinstance(new, kind) for kind in kinds) and old == new


def _fresh(value: Any) -> Any:
    """A new value as ruamel writes it: text the strict reader would read as something else is quoted."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    if isinstance(value, str):
        if any(c in value for c in "\x85\u2028\u2029") or not value.isprintable():
            return DoubleQuotedScalarString(value)
        if _implicit_tag(value) or value != value.strip():
            return SingleQuotedScalarString(value)
    return value


def _implicit_tag(text: str) -> str | None:
    """The tag the strict reader gives `text` written plain (null, int, float, bool, ...); None for text."""
    resolvers = StrictLoader.yaml_implicit_resolvers
    candidates = resolvers.get("", []) if text == "" else resolvers.get(text[0], []) + resolvers.get(None, [])
    return next((tag for tag, regexp in candidates if regexp.match(text)), None)


def write_atomic(path: Path, data: str | bytes, *, new: bool = False) -> None:
    """Write via a temp file in the same folder and rename: readers see the old or the new file, never half.

    `new=True` creates the file only if it does not exist (a hard link of the finished temp file, which fails if the
    name is taken: atomic, and never an empty file in between); raises FileExistsError otherwise.
    """
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
        if new:
            os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
