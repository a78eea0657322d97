"""Files written to hurt, run through the installed executable.

Each must be refused (exit 2, located ``error:`` lines, no traceback) or handled, within
10 seconds of the process's own CPU time and well under 1 GB: the CPU time and the peak
resident memory are read from the kernel (``wait4``) for exactly that child. CPU time, not
wall time: on a shared 2-core machine (the suite runs on both cores, and some tests start
worker pools) wall time measures the neighbours too; a hang, which burns no CPU, is caught
by the 60-second wall-clock limit of :func:`run`.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import kpidesign_executable

SECONDS = 10.0
MEMORY = 1 << 30  # 1 GiB


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # wall time
    peak_bytes: int
    cpu_seconds: float = 0.0  # user + system time of the child itself


def run(*args: str | Path, timeout: float = 60.0) -> Run:
    """Run kpidesign; wall time, and the peak RSS of exactly this child (``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [kpidesign_executable(), *map(str, args)],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                pytest.fail(f"kpidesign {' '.join(map(str, args))} ran over {timeout} s")
            time.sleep(0.01)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss * 1024,
            usage.ru_utime + usage.ru_stime,
        )


def assert_refused(res: Run, *needles: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert lines, "no error line"
    for line in lines:
        assert line.startswith("error: "), line
        assert len(line) < 2000, "an error line should be readable, not a dump"
    assert "Traceback" not in res.stderr
    assert "internal error" not in res.stderr
    for needle in needles:
        assert needle in res.stderr, (needle, res.stderr)
    assert res.cpu_seconds < SECONDS, (res.cpu_seconds, res.seconds)
    assert res.peak_bytes < MEMORY, res.peak_bytes


HEAD = """\
kpidesign: 1
name: hostile
"""

TAIL = """\
departments:
  ops:
    variables:
      make: {lb: 0, ub: 1}
    kpis:
      output: {max: "make"}
    incentive: {output: 1}
objective:
  max: "make"
"""


def write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    text = HEAD + "description: x\nparams:\n" + "".join(f"  {x}\n" for x in lines) + TAIL
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "model.yaml:", "expands to more than 500,000 values")


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    # ruamel reads the inner alias as null, so the set has a member that is no member
    text = HEAD + "sets:\n  loop: &loop [1, *loop]\n" + TAIL
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "model.yaml:4: sets.loop:")


def test_yaml_tags_are_refused_with_their_line(tmp_path: Path) -> None:
    text = HEAD + "description: !!float abc\n" + TAIL
    assert_refused(run("validate", write(tmp_path, text)), "model.yaml:3: YAML error")
    text = HEAD + "description: !!python/object:os.system ls\n" + TAIL
    assert_refused(run("validate", write(tmp_path, text)), "model.yaml:3: description: YAML tag")


def test_a_duplicate_anchor_is_an_error_not_a_warning(tmp_path: Path) -> None:
    text = HEAD + "sets:\n  a: &x [1]\n  b: &x [2]\n" + TAIL
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "model.yaml:5: YAML error: found duplicate anchor 'x'")
    assert len(res.stderr.splitlines()) == 1


def test_error_lines_stay_one_line_whatever_the_file_holds(tmp_path: Path) -> None:
    text = HEAD + 'sets:\n  "a\\nb\\x1b[31m\\u202e": [1]\n' + TAIL
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "sets.a\\nb\\x1b[31m\\u202e: invalid name", "^[A-Za-z_]")
    assert "\x1b" not in res.stderr
    assert "\u202e" not in res.stderr
    text = HEAD + TAIL.replace('max: "make"\n', 'max: "make\\n+ nosuch"\n', 1)
    assert_refused(
        run("validate", write(tmp_path, text)), "syntax (invalid syntax): `make\\n+ nosuch`"
    )


def test_overflowing_numbers_are_located_errors(tmp_path: Path) -> None:
    text = HEAD + "params:\n  cap: 1" + "0" * 400 + "\n" + TAIL
    assert_refused(run("validate", write(tmp_path, text)), "model.yaml:4: params.cap:", "too large")
    text = HEAD + TAIL.replace(
        'objective:\n  max: "make"', 'objective:\n  max: "1e308 * 10 * make"'
    )
    assert_refused(run("solve", write(tmp_path, text)), "objective", "not finite")
    text = HEAD + TAIL.replace("make: {lb: 0, ub: 1}", "make: {lb: .inf}")
    assert_refused(run("solve", write(tmp_path, text)), "lb", "+inf")


def test_a_two_billion_member_set_is_refused_before_it_is_built(tmp_path: Path) -> None:
    text = HEAD + "sets:\n  period: 1..2000000000\n" + TAIL
    res = run("validate", write(tmp_path, text))
    assert_refused(
        res, "model.yaml:4: sets.period: set 'period' (1..2000000000) has 2,000,000,000 entries"
    )
    assert "--max-size" in res.stderr


def test_a_variable_over_a_huge_product_of_sets_is_refused(tmp_path: Path) -> None:
    text = (
        HEAD
        + "sets:\n  a: 1..100000\n  b: 1..100000\n"
        + "variables:\n  flow: {over: [a, b]}\n"
        + TAIL
    )
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "variables.flow", "10,000,000,000 entries")


def test_a_sum_over_a_huge_product_is_refused(tmp_path: Path) -> None:
    text = (
        HEAD
        + "sets:\n  a: 1..4000\n  b: 1..4000\n"
        + TAIL.replace(
            'max: "make"\n', 'max: "make + sum(1 for i in a for j in b if i == j)"\n', 1
        ).replace('objective:\n  max: "make"', 'objective:\n  max: "make"')
    )
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "16,000,000 index combinations")


def test_max_size_can_be_raised_and_lowered(tmp_path: Path) -> None:
    text = HEAD + "sets:\n  period: 1..100\n" + TAIL
    path = write(tmp_path, text)
    assert_refused(run("validate", path, "--max-size", "50"), "has 100 entries; the limit is 50")
    assert run("validate", path).returncode == 0


def test_a_sum_of_twenty_thousand_terms_is_solved(tmp_path: Path) -> None:
    n = 20_000
    terms = " + ".join(f"x[{i}]" for i in range(1, n + 1))
    text = (
        HEAD
        + f"sets:\n  item: 1..{n}\n"
        + "variables:\n  x: {over: [item], lb: 0, ub: 1}\n"
        + TAIL.replace('objective:\n  max: "make"', f'objective:\n  max: "make + {terms}"')
    )
    res = run("solve", write(tmp_path, text), "--format", "json")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stderr == ""
    assert json.loads(res.stdout)["objective"] == pytest.approx(n + 1)
    assert res.seconds < 60


def test_pathological_bracket_nesting_is_refused(tmp_path: Path) -> None:
    deep = "(" * 5000 + "make" + ")" * 5000
    text = HEAD + TAIL.replace('objective:\n  max: "make"', f'objective:\n  max: "{deep}"')
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "objective.max", "brackets nested 5000 deep (at most 100)")


def test_deeply_nested_yaml_is_refused(tmp_path: Path) -> None:
    """Refused at its line, before ruamel's scanner spends seconds on it (7 s of CPU for
    these 20,000 brackets, where the whole run now takes about 3 s)."""
    text = HEAD + "description: " + "[" * 20000 + "]" * 20000 + "\n" + TAIL
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "model.yaml:3: nested too deeply to read (at most 50 levels)")


def test_brackets_in_a_quoted_string_are_text_not_nesting(tmp_path: Path) -> None:
    """200 brackets in quotes pass the quick bracket count, so YAML's own events are read:
    they are a string, and the model is valid."""
    text = HEAD + 'description: "' + "[" * 200 + '"\n' + TAIL
    res = run("validate", write(tmp_path, text))
    assert res.returncode == 0, res.stderr


def test_a_very_long_line_is_refused_by_size(tmp_path: Path) -> None:
    text = HEAD + "description: " + "x" * 5_000_000 + "\n" + TAIL
    res = run("validate", write(tmp_path, text))
    assert_refused(res, "model.yaml: 5,000,", "at most 1,000,000")


def test_a_long_line_within_the_size_limit_is_read(tmp_path: Path) -> None:
    text = HEAD + "description: " + "x" * 900_000 + "\n" + TAIL
    res = run("validate", write(tmp_path, text))
    assert res.returncode == 0, res.stderr
    assert res.cpu_seconds < SECONDS, (res.cpu_seconds, res.seconds)


def test_binary_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_bytes(bytes(range(256)) * 64)
    assert_refused(run("validate", path), "model.yaml")


def test_nul_bytes_in_text_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_bytes(HEAD.encode() + b"description: a\x00b\n" + TAIL.encode())
    assert_refused(run("validate", path), "model.yaml:3")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    assert_refused(run("validate", tmp_path / "dir.yaml"), "is a directory")


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "model.yaml"
    os.mkfifo(fifo)
    assert_refused(run("validate", fifo, timeout=SECONDS), "not a regular file")


def test_a_fifo_named_as_a_csv_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "data.csv")
    text = HEAD + "sets:\n  period: 1..3\nparams:\n  demand: {file: data.csv}\n" + TAIL
    res = run("validate", write(tmp_path, text), timeout=SECONDS)
    assert_refused(res, "params.demand.file", "not a regular file")


def test_a_million_row_csv_with_one_bad_value_names_its_line(tmp_path: Path) -> None:
    n, bad = 1_000_000, 654_321
    rows = ["period,value"] + [f"{i},{'oops' if i == bad else i % 97}" for i in range(1, n + 1)]
    (tmp_path / "demand.csv").write_text("\n".join(rows) + "\n")
    text = HEAD + f"sets:\n  period: 1..{n}\nparams:\n  demand: {{file: demand.csv}}\n" + TAIL
    res = run("validate", write(tmp_path, text))
    csv = tmp_path / "demand.csv"
    assert_refused(res, f"{csv}:{bad + 1}: value 'oops' is missing or not a finite number")
    assert len(res.stderr.splitlines()) == 1
