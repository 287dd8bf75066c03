"""Where a command's Python time goes: py-spy samples the driver and every Python process under it
(Spark's Python workers run mapInPandas, the reasons of scoring), and the samples are summed per
kind of process and per function.

    python -m bench.profile_python --name score_region -- python -m jobs.score --conf work/bench/region/run/conf/run.yaml

Runs the command from the project's folder and attaches `py-spy record --subprocesses` to it;
without py-spy's idle samples, a sample is a moment a Python thread was running. Writes
bench/results/python_profile_<name>.json: wall seconds, busy seconds per kind (driver, Spark
Python workers, other Python), and the functions with the most samples of their own (self) and
under them (inclusive). Only once the command succeeded: py-spy exits 0 whatever its target did.
py-spy attaches to the command's process: it needs the right to trace it (root, CAP_SYS_PTRACE, or
kernel.yama.ptrace_scope 0).
"""
from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from bench import report
from jobs.config import PROJECT_ROOT

# py-spy's raw format: one stack per line, `process PID:"command line";...;function (file:line) COUNT`,
# the process frames first, from the profiled root down to the process sampled.
# A command line may hold newlines: a stack ends where the next one's first process frame begins.
STACKS = re.compile(r"\n(?=process \d+:)")
STACK = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$", re.S)
PROCESS = re.compile(r'process (?P<pid>\d+):"(?P<command>.*?)"(?:;|$)', re.S)
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::\d+)?\)$")
WORKER = "pyspark.daemon"  # the command line of Spark's Python worker daemon and of the workers it forks


def process_kind(pid: int, command: str, root: int) -> str:
    """driver (the profiled command), spark_python_worker, or other_python."""
    if pid == root:
        return "driver"
    return "spark_python_worker" if WORKER in command else "other_python"


def short_file(path: str) -> str:
    """A frame's file relative to the project or to its installed package's folder."""
    path = path.replace(f"{PROJECT_ROOT}/", "")
    return path.split("site-packages/", 1)[-1]


def parse(text: str, root: int) -> list[tuple[str, list[str], int]]:
    """(process kind, frames from the outermost, samples) of each stack of a raw py-spy profile."""
    stacks = []
    for record in STACKS.split(text):
        match = STACK.match(record.strip())
        if not match:
            continue
        stack, processes = match["stack"], []
        while (process := PROCESS.match(stack)) is not None:
            processes.append((int(process["pid"]), process["command"]))
            stack = stack[process.end():]
        if not processes:
            continue
        frames = []
        for frame in filter(None, stack.split(";")):
            found = FRAME.match(frame)
            frames.append(f"{found['function']} ({short_file(found['file'])})" if found else frame)
        stacks.append((process_kind(*processes[-1], root), frames, int(match["count"])))
    return stacks


# The project's own packages: their functions are listed apart, under the libraries' frames.
PACKAGES = tuple(sorted(p.name for p in PROJECT_ROOT.iterdir() if (p / "__init__.py").is_file() and p.name != "tests"))


def is_project(function: str) -> bool:
    """Whether a frame (`function (file)`) is code of the project's packages."""
    return function.rsplit(" (", 1)[-1].split("/", 1)[0] in PACKAGES


def summarise(stacks: list[tuple[str, list[str], int]], rate: int, top: int = 15) -> dict:
    """Busy seconds per process kind and the top functions per kind: by samples of their own
    (self), under them (inclusive), and the project's own functions by inclusive samples."""
    found: dict = {}
    for kind in sorted({kind for kind, _, _ in stacks}):
        own, under = collections.Counter(), collections.Counter()
        samples = 0
        for stack_kind, frames, count in stacks:
            if stack_kind != kind:
                continue
            samples += count
            if frames:
                own[frames[-1]] += count
            for frame in set(frames):
                under[frame] += count
        project = collections.Counter({f: n for f, n in under.items() if is_project(f)})
        found[kind] = {"busy_seconds": round(samples / rate, 1), **{
            name: [{"function": f, "seconds": round(n / rate, 1), "share": round(n / samples, 3)}
                   for f, n in counts.most_common(top)]
            for name, counts in (("self", own), ("inclusive", under), ("project", project))}}
    return found


def record(command: Sequence[str], rate: int, log_path: Path, profile_path: Path) -> dict:
    """Run `command` under py-spy; its wall seconds and the profile's summary. Raises when the
    command fails (its log names why) or py-spy records nothing."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    begin = time.monotonic()
    with log_path.open("w") as log:
        target = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        spy = subprocess.run([py_spy, "record", "--pid", str(target.pid), "--subprocesses", "--function",
                              "--nonblocking", "--format", "raw", "--rate", str(rate), "-o", str(profile_path)],
                             capture_output=True, text=True)
        status = target.wait()
    wall = time.monotonic() - begin
    if status != 0:
        raise RuntimeError(f"the profiled command failed (exit {status}): see {log_path}")
    if spy.returncode != 0 or not profile_path.exists():
        raise RuntimeError(f"py-spy recorded nothing (exit {spy.returncode}): {spy.stderr.strip()[-500:]}")
    stacks = parse(profile_path.read_text(encoding="utf-8", errors="replace"), target.pid)
    return {"wall_seconds": round(wall, 1), "samples": sum(count for _, _, count in stacks),
            "by_process": summarise(stacks, rate)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="results file bench/results/python_profile_<name>.json")
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to profile")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to profile after --")
    folder = Path(tempfile.mkdtemp(prefix="profile_python_"))
    figures = record(command, args.rate, folder / "command.log", folder / "profile.txt")
    shutil.rmtree(folder)  # kept when the command failed, for its log
    report(f"python_profile_{args.name}", {
        "command": " ".join(command).replace(f"{PROJECT_ROOT}/", ""), "rate": args.rate, **figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
