"""Bounded soak of `labreport watch`: files dropped in bursts, a watcher SIGKILLed and restarted, then checked.

    .venv/bin/python bench/soak.py                 # 500 files in 10 bursts over ~2.5 min, 2 watchers, 2 kills
    .venv/bin/python bench/soak.py --files 120 --bursts 3 --period 3 --kills 1     # a quick one

What it does: prepares the files (digital fixtures with varied bytes, some broken inputs, some files whose
bytes repeat under another name, some names dropped again in later bursts), starts ``--watchers`` watcher
processes on one inbox, drops the files burst by burst the way scanners do (half written under a .part name
and renamed, half written in place in two pieces), SIGKILLs watcher 0 in the middle of a burst ``--kills``
times and restarts it a second later, waits for the inbox and processing/ to drain, stops the watchers, and
checks:
- every dropped file is in done/ or failed/ exactly once, byte for byte (sha256 multiset equal), with its
  results/<name>.json or failed/<name>.error.json, and nothing is left in the inbox or processing/;
- the database holds each report exactly once: its sha256 set equals the done files' and has no repeats.
Prints the figures and exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "fixtures" / "reports"


@dataclass
class Config:
    files: int = 500
    bursts: int = 10
    period: float = 15.0
    kills: int = 2
    watchers: int = 2
    workers: int = 1
    settle: float = 0.5
    seed: int = 7
    work_dir: Path | None = None


@dataclass
class Report:
    dropped: int = 0
    seconds: float = 0.0
    drain_seconds: float = 0.0
    kills: list[int] = field(default_factory=list)
    """Files the killed watcher left in processing/ at each kill."""
    done: int = 0
    failed: int = 0
    stored: int = 0
    burst_seconds: list[float] = field(default_factory=list)
    """From a burst's first drop until inbox and processing/ were empty again."""
    resumed: int = 0
    """Claims taken over from a killed watcher (by the restarted one or the other watcher)."""
    failures: list[str] = field(default_factory=list)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """(name, bytes) to drop: mostly reports, ~4 % broken, ~2 % repeated bytes, ~2 % repeated names."""
    sources = [p.read_bytes() for p in sorted(REPORTS.glob("*.pdf"))]
    items: list[tuple[str, bytes]] = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.02:
            items.append((f"empty {i:04d}.pdf", b""))
        elif roll < 0.04:
            whole = sources[i % len(sources)]
            items.append((f"cut {i:04d}.pdf", whole[: len(whole) // 2]))
        elif roll < 0.06 and items:
            items.append((f"again {i:04d}.pdf", items[rng.randrange(len(items))][1]))  # same bytes, new name
        elif roll < 0.08:
            items.append(("scan.pdf", sources[i % len(sources)] + f"\n%soak {i}\n".encode()))  # same name again
        else:
            items.append((f"Befund {i:04d} – Müller.pdf", sources[i % len(sources)] + f"\n%soak {i}\n".encode()))
    return items


def _drop(inbox: Path, name: str, data: bytes, index: int) -> Path:
    """Write one file the way a scanner or copier would; returns its final path."""
    target = inbox / name
    while target.exists():  # the previous file of that name is not taken yet: wait as a scanner would retry
        time.sleep(0.05)
    if index % 2:
        part = inbox / f"{name}.part"
        part.write_bytes(data)
        os.rename(part, target)
    else:
        with target.open("wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            time.sleep(0.02)
            handle.write(data[len(data) // 2 :])
    return target


def _start(index: int, inbox: Path, out: Path, db: Path, cfg: Config, logs: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "pipeline.cli", "--log-level", "INFO", "watch", str(inbox), "--out", str(out)]
    argv += ["--db", f"sqlite:///{db}", "--workers", str(cfg.workers), "--settle", str(cfg.settle), "--interval", "1"]
    log = (logs / f"watcher{index}.log").open("ab")
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]


def _pending(inbox: Path, out: Path) -> bool:
    """Files still in the inbox or in processing/."""
    return bool(_files(inbox)) or any(not p.name.startswith(".") for p in _files(out / "processing"))


def run(cfg: Config) -> Report:
    """The whole soak; see the module docstring."""
    rng = random.Random(cfg.seed)
    work = cfg.work_dir or Path(tempfile.mkdtemp(prefix="labreport-soak-"))
    inbox, out, db, logs = work / "inbox", work / "out", work / "lab.sqlite", work / "logs"
    for folder in (inbox, logs):
        folder.mkdir(parents=True, exist_ok=True)
    items = prepare(cfg.files, rng)
    report = Report(dropped=len(items))
    watchers = [_start(i, inbox, out, db, cfg, logs) for i in range(cfg.watchers)]
    per_burst = -(-len(items) // cfg.bursts)
    kill_bursts = {round((k + 1) * cfg.bursts / (cfg.kills + 1)) for k in range(cfg.kills)}
    started = time.monotonic()
    try:
        for burst in range(cfg.bursts):
            chunk = items[burst * per_burst : (burst + 1) * per_burst]
            burst_started = time.monotonic()
            for n, (name, data) in enumerate(chunk):
                _drop(inbox, name, data, burst * per_burst + n)
                if burst in kill_bursts and n == len(chunk) // 2:
                    time.sleep(cfg.settle * 2)  # let the watcher get busy with this burst
                    victim = watchers[0]
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    held = [p for d in (out / "processing").glob(f"w{victim.pid}-*") for p in _files(d)]
                    report.kills.append(len([p for p in held if not p.name.startswith(".")]))
                    time.sleep(1.0)
                    watchers[0] = _start(0, inbox, out, db, cfg, logs)
            if burst == cfg.bursts - 1:
                break
            drained = False
            while time.monotonic() - burst_started < cfg.period:
                if not drained and not _pending(inbox, out):
                    drained = True
                    report.burst_seconds.append(time.monotonic() - burst_started)
                time.sleep(0.05)
        dropped_at = time.monotonic()
        deadline = dropped_at + 600
        while time.monotonic() < deadline and _pending(inbox, out):
            time.sleep(0.1)
        report.drain_seconds = time.monotonic() - dropped_at
        report.seconds = time.monotonic() - started
    finally:
        for proc in watchers:
            proc.send_signal(signal.SIGTERM)
        for proc in watchers:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    verify(items, inbox, out, db, logs, report)
    return report


def verify(items: list[tuple[str, bytes]], inbox: Path, out: Path, db: Path, logs: Path, report: Report) -> None:
    """The checks listed in the module docstring; failures go to report.failures."""
    from sqlalchemy import create_engine, select

    sys.path.insert(0, str(ROOT))
    from pipeline.store.schema import ReportRow

    def check(ok: bool, what: str) -> None:
        if not ok:
            report.failures.append(what)

    check(_files(inbox) == [], f"inbox not empty: {len(_files(inbox))} files")
    left = [p for p in _files(out / "processing") if not p.name.startswith(".")]
    check(left == [], f"processing/ not empty: {len(left)} files")
    done = {p.name: _sha(p.read_bytes()) for p in (out / "done").iterdir()}
    failed = {
        p.name: _sha(p.read_bytes())
        for p in (out / "failed").iterdir()
        if not p.name.endswith(".error.json") and not p.name.startswith(".")  # a killed write's hidden temp
    }
    report.done, report.failed = len(done), len(failed)
    dropped = Counter(_sha(data) for _, data in items)
    landed = Counter([*done.values(), *failed.values()])
    check(landed == dropped, f"done+failed differ from the dropped files: {sum((dropped - landed).values())} "
          f"missing, {sum((landed - dropped).values())} extra")  # fmt: skip
    for name, sha in done.items():
        result = out / "results" / f"{name}.json"
        check(result.exists() and json.loads(result.read_text())["source"]["sha256"] == sha, f"results of {name}")
    for name in failed:
        check((out / "failed" / f"{name}.error.json").exists(), f"error.json of {name}")
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        stored = list(conn.scalars(select(ReportRow.sha256)))
    engine.dispose()
    report.stored = len(stored)
    check(len(stored) == len(set(stored)), "a report is stored twice")
    check(set(stored) == set(done.values()), "the database and done/ disagree")
    for log in logs.glob("*.log"):
        text = log.read_text(errors="replace")
        report.resumed += sum(int(n) for n in re.findall(r"resuming (\d+) files left in processing/", text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Config()
    parser.add_argument("--files", type=int, default=defaults.files)
    parser.add_argument("--bursts", type=int, default=defaults.bursts)
    parser.add_argument("--period", type=float, default=defaults.period, help="seconds between burst starts")
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--watchers", type=int, default=defaults.watchers)
    parser.add_argument("--workers", type=int, default=defaults.workers, help="worker processes per watcher")
    parser.add_argument("--work-dir", type=Path, help="keep everything here (default: a new temporary folder)")
    args = parser.parse_args()
    cfg = Config(
        files=args.files, bursts=args.bursts, period=args.period, kills=args.kills,
        watchers=args.watchers, workers=args.workers, work_dir=args.work_dir,
    )  # fmt: skip
    report = run(cfg)
    print(f"soak: {report.dropped} files in {cfg.bursts} bursts, {cfg.watchers} watchers x {cfg.workers} workers")
    print(f"  ran {report.seconds:.0f} s; drained {report.drain_seconds:.1f} s after the last drop")
    print(f"  watcher 0 SIGKILLed {len(report.kills)} times, leaving {report.kills} files in processing/")
    print(f"  done {report.done}, failed {report.failed}, stored reports {report.stored}")
    print(f"  claims resumed after the kills: {report.resumed}")
    if report.burst_seconds:
        per_burst = report.dropped / cfg.bursts
        median = sorted(report.burst_seconds)[len(report.burst_seconds) // 2]
        print(
            f"  a burst of {per_burst:.0f} files drained in {min(report.burst_seconds):.1f}-"
            f"{max(report.burst_seconds):.1f} s (median {median:.1f} s: {per_burst / median:.1f} files/s while busy)"
        )
    if report.failures:
        print("FAILED:\n  " + "\n  ".join(report.failures[:20]))
        sys.exit(1)
    print("OK: every input in done/ or failed/ exactly once, byte for byte; each report stored exactly once")


if __name__ == "__main__":
    main()
