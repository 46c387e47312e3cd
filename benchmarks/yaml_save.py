"""What a save costs to write its text: riskkit's stable style (PyYAML, new files) against the round trip that keeps
the file's comments and style (ruamel.yaml, existing files), per sample school file; and a German problem list.

    python benchmarks/yaml_save.py
"""

from __future__ import annotations

import time
from pathlib import Path

import riskkit
from riskkit.model.errors import ValidationError

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample-district"


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    district = riskkit.load_district(SAMPLE)
    files = {sid: next((SAMPLE / "schools").glob(f"{sid}.y*ml")).read_text(encoding="utf-8") for sid in district.schools}
    schools = [district.school(sid) for sid in district.schools]
    fresh = best(lambda: [s.to_yaml() for s in schools]) / len(schools)
    kept = best(lambda: [s.to_yaml(files[s.school.id]) for s in schools]) / len(schools)
    print(f"per school file: stable style {fresh * 1000:.1f} ms | round trip {kept * 1000:.1f} ms "
          f"| ratio {kept / fresh:.1f}x")
    problems = ValidationError([p for sid, text in files.items() for p in _problems(text, sid)])
    english = best(lambda: problems.text("en")) * 1000
    german = best(lambda: problems.text("de")) * 1000
    print(f"{len(problems.problems)} problems listed: English {english:.2f} ms | German {german:.2f} ms")


def _problems(text: str, school_id: str):
    from riskkit.model.yamlio import parse_yaml

    return parse_yaml(text.replace("likelihood: 1", "likelihood: hoch"), f"{school_id}.yaml")[1] or [
        riskkit.model.errors.Problem(f"{school_id}.yaml", f"risks.x{i}.likelihood", "hoch",
                                     "Input should be a valid integer", "int_type") for i in range(10)]


if __name__ == "__main__":
    main()
