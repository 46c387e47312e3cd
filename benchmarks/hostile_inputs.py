"""Hostile input files through `riskkit validate` / `riskkit import`: seconds and output size, this tree against a
baseline checkout side by side.

    python benchmarks/hostile_inputs.py [--baseline DIR] [--timeout S]

Each case is a sample district plus one hostile file; both trees run the same command as a subprocess with their own
code first on PYTHONPATH. The baseline is optional (e.g. `git archive 5bc89ea | tar -x -C /tmp/base`); a run that
exceeds the timeout (default 120 s) is killed and shown as `>S`.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample-district"
RISKKIT = Path(sys.executable).parent / "riskkit"


def billion_laughs(levels: int = 9) -> str:
    """Under 1 KB of YAML that expands to 9**levels strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    lines.append(f"school: {{id: evil, name: *a{levels - 1}, kind: primary}}")
    return "\n".join(lines) + "\n"


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 500_000_000)
    return buffer.getvalue()


def cases(folder: Path) -> list[tuple[str, int, list[str]]]:
    """(name, input bytes, command arguments) per hostile file, each in its own district copy."""
    made = []
    specs = [
        ("school.yaml: billion laughs (9 levels)", "schools/evil.yaml", billion_laughs().encode()),
        ("school.yaml: nesting 10,000 deep", "schools/deep.yaml", b"x: " + b"[" * 10_000 + b"]" * 10_000 + b"\n"),
        ("school.yaml: 5,000 unknown keys", "schools/wide.yaml",
         "".join(f"k{i}: [[[[{'x' * 50}]]]]\n" for i in range(5000)).encode()),
        ("import: XLSX unpacking to 500 MB", "bomb.xlsx", zip_bomb()),
    ]
    for i, (name, rel, data) in enumerate(specs):
        district = folder / f"d{i}"
        shutil.copytree(SAMPLE, district)
        target = district / rel
        target.write_bytes(data)
        args = ["import", str(target), str(district)] if rel.endswith(".xlsx") else ["validate", str(district)]
        made.append((name, len(data), args))
    return made


def run(tree: Path, args: list[str], timeout: float) -> tuple[str, str, str]:
    """(seconds, exit code, output bytes) of `riskkit ARGS` with `tree` first on PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([str(RISKKIT), *args], stdout=out, stderr=out, env=env, start_new_session=True)
        try:
            code = str(proc.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            code = "killed"
        seconds = time.perf_counter() - start
        size = out.seek(0, os.SEEK_END)
    shown = f">{timeout:.0f}" if code == "killed" else f"{seconds:.2f}"
    return shown, code, str(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of an older riskkit to compare with")
    parser.add_argument("--timeout", type=float, default=120.0)
    opts = parser.parse_args()
    trees = [("this tree", REPO)] + ([("baseline", opts.baseline.resolve())] if opts.baseline else [])
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for name, size, args in cases(Path(tmp)):
            row = [name, str(size)]
            for _, tree in trees:
                row += run(tree, args, opts.timeout)
            rows.append(row)
    header = ["case", "input bytes"]
    for label, _ in trees:
        header += [f"{label} s", f"{label} exit", f"{label} output bytes"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
    print("(seconds include starting Python and riskkit, about 1 s on an idle machine)")
    from riskkit.model.yamlio import parse_yaml

    text, runs = billion_laughs(), 200
    start = time.perf_counter()
    for _ in range(runs):
        _, problems = parse_yaml(text, "evil.yaml")
    each = (time.perf_counter() - start) / runs
    print(f"this tree, in process: parse_yaml(billion laughs) refused in {each * 1000:.2f} ms: {problems[0]}")


if __name__ == "__main__":
    main()
