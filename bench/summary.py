"""SUMMARY.md and the scaling plots, from the scale results bench/bench_scale.py wrote.

    python -m bench.summary          (make bench runs it after each scale)

Reads bench/results/<scale>.json for every scale of conf/bench.yaml that has one and writes
bench/results/SUMMARY.md: a table per stage (rows, seconds, rows/s, peak memory, and the ratio to
its reference in the same run), the targets, and the slope of each stage's time against the
number of firms (log-log: 1 grows like the data), and the Python profiles of
bench/profile_python.py (python_profile_<name>.json); plus bench/results/scaling.png.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from bench import RESULTS_DIR  # noqa: E402
from bench.bench_scale import DEFAULT_CONF  # noqa: E402
from jobs.config import load_config  # noqa: E402

STAGES = ("generate", "ingest", "build_panel", "train", "score", "export", "refresh")
# What each stage's rows are, read from the counts its progress lines logged.
ROW_STEPS = {
    "generate": ("generate_extracts", "rows"),
    "ingest": ("ingest log", None),
    "build_panel": ("panel full", "rows"),
    "score": ("score ", "rows"),
    "refresh": ("pipeline: ingest", "rows"),
}


def load_results(results_dir: Path = RESULTS_DIR) -> dict[str, dict]:
    """Every scale's results that exist, by scale, smallest first."""
    scales = load_config(DEFAULT_CONF)["bench"]["scales"]
    found = {name: json.loads((results_dir / f"{name}.json").read_text())
             for name in scales if (results_dir / f"{name}.json").exists()}
    return dict(sorted(found.items(), key=lambda item: item[1]["firms"]))


def stage_figures(results: dict, stage: str) -> dict | None:
    """Rows, seconds, rows/s and peak memory of one stage of a scale's results (None if absent)."""
    figures = results["generate"] if stage == "generate" else results["stages"].get(stage)
    if not figures:
        return None
    rows = stage_rows(figures, stage)
    seconds = figures["wall_seconds"]
    return {"rows": rows, "seconds": seconds, "cpu_seconds": figures["cpu_seconds"],
            "rows_per_second": round(rows / seconds) if rows and seconds else None,
            "peak_jvm_mb": figures.get("peak_jvm_rss_mb", 0), "peak_python_mb": figures.get("peak_python_rss_mb", 0)}


def stage_rows(figures: dict, stage: str) -> int | None:
    """The rows a stage handled: source lines read by ingestion, panel rows built, firms scored..."""
    if stage == "ingest":
        read = sum(step.get("rows_read", 0) for step in figures["steps"]
                   if step["step"].startswith("ingest ") and step["step"] != "ingest log")
        return int(read) or None
    if stage not in ROW_STEPS:
        return None
    prefix, key = ROW_STEPS[stage]
    values = [step.get(key) for step in figures["steps"] if step["step"].startswith(prefix)]
    values = [v for v in values if isinstance(v, (int, float))]
    return int(sum(values)) if values else None


def reference_ratios(results: dict) -> dict[str, str]:
    """The ratio of each stage to its reference in the same run, as text."""
    found = {}
    panel_results = (results.get("references") or {}).get("panel_aggregates", {}).get("results", {})
    panel, region = panel_results.get("aggregates"), panel_results.get("region_aggregates")
    parts = []
    if panel:
        parts.append(f"monthly aggregates: Spark {panel['spark_seconds']} s, DuckDB {panel['duckdb_seconds']} s "
                     f"({panel['spark_over_duckdb']}x; engines agree: {panel['engines_agree']})")
    if region:
        parts.append(f"region {region['region']}'s ({region['firms']:,} firms): Spark {region['spark_seconds']} s, "
                     f"pandas {region['pandas_seconds']} s ({region['spark_over_pandas']}x; "
                     f"engines agree: {region['engines_agree']})")
    if parts:
        found["build_panel"] = "; ".join(parts)
    train = (results.get("references") or {}).get("training", {}).get("results")
    if train:
        spark = train["spark"].get("cached") or next(iter(train["spark"].values()))
        lgbm = train["lightgbm"]
        found["train"] = (f"{train['horizon']}m GBT fit on {train['train_rows']:,} rows: Spark {spark['seconds']} s "
                          f"(test AUC-PR {spark['test_auc_pr']}), LightGBM {lgbm['seconds']} s "
                          f"(AUC-PR {lgbm['test_auc_pr']}): {train['spark_over_lightgbm_seconds']}x")
    return found


def target_figures(results: dict) -> dict[str, float | None]:
    """The figures the targets (conf bench.targets) are about, from one scale's results."""
    stages = results["stages"]
    ingest, score = stage_figures(results, "ingest"), stage_figures(results, "score")
    build, refresh = results.get("full_build_minutes"), results.get("refresh_minutes")
    panel = (results.get("references") or {}).get("panel_aggregates", {}).get("results", {}).get("aggregates") or {}
    peaks = [(f.get("peak_jvm_rss_mb") or 0) + (f.get("peak_python_rss_mb") or 0) for f in stages.values()]
    return {
        "bench_minutes": bench_minutes(results),
        "full_build_minutes": build,
        "refresh_minutes": refresh,
        "refresh_share_of_build": round(refresh / build, 3) if build and refresh is not None else None,
        "ingest_rows_per_second": ingest["rows_per_second"] if ingest else None,
        "panel_over_duckdb": panel.get("spark_over_duckdb"),
        "score_firms_per_second": score["rows_per_second"] if score else None,
        "peak_memory_gib": round(max(peaks) / 1024, 1) if peaks else None,
    }


def bench_minutes(results: dict) -> float | None:
    """The whole `make bench` of a scale, in minutes: the delivery's generation (when this run made
    it), every stage and the references; None until the run is complete."""
    if not results.get("complete", True):
        return None
    parts = [results.get("generate"), *results["stages"].values(), *(results.get("references") or {}).values()]
    return round(sum(part["wall_seconds"] for part in parts if part) / 60, 1)


def scale_targets(bench: dict, scale: str) -> dict:
    """The targets of one scale: conf bench.targets, with its own (bench.scale_targets) added."""
    return {**bench["targets"], **(bench.get("scale_targets") or {}).get(scale, {})}


AT_LEAST = ("ingest_rows_per_second", "score_firms_per_second")


def target_lines(results: dict, targets: dict, notes: dict) -> list[str]:
    """A table of the targets: measured, target, met or by how much it misses, and why."""
    lines = ["| target | measured | goal | verdict | why |", "|---|---|---|---|---|"]
    for name, goal in targets.items():
        measured = target_figures(results).get(name)
        if measured is None:
            verdict = "not measured"
        else:
            met = measured >= goal if name in AT_LEAST else measured <= goal
            factor = goal / measured if name in AT_LEAST else measured / goal
            # A near miss in percent: "1.0x off" would read as met.
            verdict = "met" if met else (f"missed, {factor:.1f}x off" if factor >= 1.1 else f"missed by {factor - 1:.1%}")
        bound = "at least" if name in AT_LEAST else "at most"
        lines.append(f"| {name} | {_int(measured) if measured is not None else '?'} | {bound} {goal:,} | {verdict} | "
                     f"{notes.get(name, '')} |")
    return lines


def slope(firms: list[int], seconds: list[float]) -> float | None:
    """The log-log slope of seconds against firms (1: linear), None with fewer than two scales."""
    if len(firms) < 2:
        return None
    return float(np.polyfit(np.log(firms), np.log(seconds), 1)[0])


def markdown(all_results: dict[str, dict], python_profiles: dict[str, dict] | None = None) -> str:
    """SUMMARY.md's text; with the py-spy profiles (`load_python_profiles`) when given."""
    lines = ["# Benchmarks at scale", "",
             "Written by `python -m bench.summary` from `bench/results/<scale>.json` "
             "(`make bench SCALE=demo|region|mid|national`: `python -m bench.bench_scale --scale <scale>`). "
             "Wall seconds on the machine below; CPU seconds count the Python process and its JVM.", ""]
    for name, results in all_results.items():
        machine = results["machine"]
        state = "" if results.get("complete", True) else " (INCOMPLETE: stopped after " + ", ".join(results["stages"]) + ")"
        lines.append(f"- `{name}`{state}: {results['firms']:,} firms, {results['months']} months "
                     f"({results.get('delivery_megabytes', '?')} MB delivered); full build "
                     f"{results.get('full_build_minutes', '?')} min, monthly refresh {results.get('refresh_minutes', '?')} "
                     f"min, the whole command {bench_minutes(results) or '?'} min; {machine['cores']} cores, {machine['memory_gb']} GiB, load {machine['load_average']}")
    lines.append("")
    bench = load_config(DEFAULT_CONF)["bench"]
    notes_path = RESULTS_DIR / "notes.yaml"
    notes = yaml.safe_load(notes_path.read_text(encoding="utf-8")) if notes_path.exists() else {}
    for name, results in all_results.items():
        lines += [f"## Targets at the {name} scale", "",
                  *target_lines(results, scale_targets(bench, name), notes.get(name) or {}), ""]
    for stage in STAGES:
        rows = [(name, stage_figures(results, stage), reference_ratios(results).get(stage))
                for name, results in all_results.items()]
        rows = [row for row in rows if row[1]]
        if not rows:
            continue
        lines += [f"## {stage}", "", "| scale | rows | wall s | CPU s | rows/s | peak JVM MB | peak Python MB | reference |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, figures, reference in rows:
            lines.append(f"| {name} | {_int(figures['rows'])} | {figures['seconds']} | {figures['cpu_seconds']} | "
                         f"{_int(figures['rows_per_second'])} | {figures['peak_jvm_mb']:,} | {figures['peak_python_mb']:,} | "
                         f"{reference or ''} |")
        fitted = slope([all_results[n]["firms"] for n, _, _ in rows], [f["seconds"] for _, f, _ in rows])
        if fitted is not None:
            lines += ["", f"Time against firms, log-log slope: {fitted:.2f} (1 grows like the data)."]
        lines.append("")
    lines += profile_lines(all_results)
    lines += python_profile_lines(python_profiles or {}, notes.get("python_profiles"))
    lines += ["![scaling](scaling.png)", ""]
    return "\n".join(lines)


def profile_lines(all_results: dict[str, dict], top: int = 5) -> list[str]:
    """Per scale and stage, its heaviest Spark steps (the `profile` bench_scale took from the
    stage's event log): wall seconds in jobs, executor seconds, shuffle written and spilled."""
    lines = []
    for name, results in all_results.items():
        for stage, figures in results["stages"].items():
            steps = [step for log in figures.get("profile") or [] for step in log["steps"]]
            if not steps:
                continue
            if not lines:
                lines += ["## Where the time went (Spark event logs: `python -m bench.profile_events <log>`)", ""]
            lines += [f"`{name}` {stage}:", "", "| step | job s | executor s | CPU s | GC s | shuffle written MB | "
                      "spilled MB | slowest query's plan |", "|---|---|---|---|---|---|---|---|"]
            for step in sorted(steps, key=lambda s: s.get("job_seconds", 0), reverse=True)[:top]:
                plan = " / ".join((step.get("slowest_sql") or {}).get("operators", [])[:4])
                lines.append(f"| {step['step']} | {step.get('job_seconds', 0):,.0f} | "
                             f"{step.get('executor_run_seconds', 0):,.0f} | {step.get('executor_cpu_seconds', 0):,.0f} | "
                             f"{step.get('gc_seconds', 0):,.0f} | {step.get('shuffle_write_mb', 0):,.0f} | "
                             f"{step.get('spill_disk_mb', 0):,.0f} | {plan} |")
            lines.append("")
    return lines


def load_python_profiles(results_dir: Path = RESULTS_DIR) -> dict[str, dict]:
    """Every bench.profile_python result, by name (python_profile_<name>.json)."""
    return {path.stem.removeprefix("python_profile_"): json.loads(path.read_text())
            for path in sorted(results_dir.glob("python_profile_*.json"))}


def python_profile_lines(profiles: dict[str, dict], notes: dict | None = None, top: int = 5) -> list[str]:
    """Per profiled command, the busy seconds of each kind of Python process, its functions with
    the most samples of their own, and what the profile shows (`notes`, by profile name)."""
    if not profiles:
        return []
    lines = ["## Where the Python time went (py-spy: `python -m bench.profile_python`)", ""]
    for name, profile in profiles.items():
        kinds = profile["by_process"]
        busy = ", ".join(f"{kind} {figures['busy_seconds']:,} s" for kind, figures in kinds.items())
        lines += [f"`{name}`: `{profile['command']}`, {profile['wall_seconds']:,} s wall; Python busy: {busy}.", "",
                  "| process | function (self) | seconds | share of the process's samples |", "|---|---|---|---|"]
        for kind, figures in kinds.items():
            for entry in figures["self"][:top]:
                lines.append(f"| {kind} | `{entry['function']}` | {entry['seconds']:,} | {entry['share']:.0%} |")
        lines.append("")
        if (notes or {}).get(name):
            lines += [notes[name], ""]
    return lines


def _int(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}" if not math.isnan(value) else ""
    return f"{value:,}" if isinstance(value, (int, float)) else ""


def plot(all_results: dict[str, dict], path: Path) -> None:
    """Wall seconds of each stage against firms, log-log, one line per stage."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for stage in STAGES:
        points = [(r["firms"], f["seconds"]) for r in all_results.values() if (f := stage_figures(r, stage))]
        if points:
            axis.plot(*zip(*points), marker="o", label=stage)
    axis.set(xscale="log", yscale="log", xlabel="perimeter firms", ylabel="wall seconds", title="Stage time by scale")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> int:
    all_results = load_results()
    if not all_results:
        raise SystemExit(f"no scale results in {RESULTS_DIR}: run python -m bench.bench_scale --scale demo first")
    (RESULTS_DIR / "SUMMARY.md").write_text(markdown(all_results, load_python_profiles()), encoding="utf-8")
    plot(all_results, RESULTS_DIR / "scaling.png")
    print((RESULTS_DIR / "SUMMARY.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
