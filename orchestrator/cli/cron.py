"""Keep one marked block of Agent OS jobs in a crontab, or render them as systemd timers instead.

python-crontab validates and parses the cron expressions. The block is spliced into the
crontab as text, because a python-crontab round trip rewrites the user's own lines
(`0 * * * *` becomes `@hourly`, variables move, unparsed lines become `# DISABLED LINE`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from crontab import (  # type: ignore[import-untyped, unused-ignore]  # types-python-crontab
    CronRange,
    CronSlice,
    CronSlices,
    CronValue,
)

from orchestrator.errors import StateError, UsageError
from orchestrator.store.files import atomic_write

FIELDS = "minute hour day-of-month month day-of-week"
_FIELD = re.compile(r"[0-9A-Za-z*,/-]+")  # python-crontab also takes ~ < > and non-ASCII digits
_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
_UNIT_SAFE = re.compile(r"[\w@+=:,./-]+")
_WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


@dataclass(frozen=True, slots=True)
class CronJob:
    """One job to schedule: `bin/agentos run <name>` whenever `schedule` matches."""

    name: str
    schedule: str  # five-field cron expression, e.g. "*/5 * * * *"

    def __post_init__(self) -> None:
        if not _JOB_NAME.fullmatch(self.name):
            raise ValueError(f"job name {self.name!r} must match {_JOB_NAME.pattern}")
        problem = validate_schedule(self.schedule)
        if problem:
            raise ValueError(f"job {self.name}: {problem}")


def validate_schedule(expr: str) -> str | None:
    """Return why `expr` is not a five-field cron expression, or None when it is one."""
    fields = expr.split()
    if len(fields) != 5:
        return _invalid(expr, f"it has {len(fields)} fields, not 5")
    odd = next((field for field in fields if not _FIELD.fullmatch(field)), None)
    if odd is not None:
        return _invalid(expr, f"{odd!r} may hold only digits, names, '*', ',', '-' and '/'")
    try:
        CronSlices(fields)
    except (ValueError, KeyError, TypeError) as exc:  # python-crontab raises all three
        return _invalid(expr, str(exc.args[0]) if exc.args else type(exc).__name__)
    return None


def _invalid(expr: str, reason: str) -> str:
    return f"expected a cron expression ({FIELDS}), got {expr!r}: {reason}"


# The crontab block


def render_block(
    jobs: Sequence[CronJob],
    root: Path,
    log_dir: Path,
    config_path: Path | None,
    *,
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """Return the crontab lines for `jobs`, the root's marker lines first and last."""
    root = _root(root)
    begin, end = _markers(root)
    path = search_path(environ)
    lines = [
        begin,
        "# Written by `bin/agentos cron install`: change `schedule` in the config and re-run it.",
        *(
            f"{_normalise(job.schedule)} {_command(job, root, log_dir, config_path, path)}"
            for job in jobs
        ),
        end,
    ]
    if any("\n" in line or "\r" in line for line in lines):
        raise UsageError("a path for the crontab contains a line break")
    return lines


def search_path(environ: Mapping[str, str]) -> str:
    """Return the PATH cron jobs get: the installer's absolute entries, then the system's."""
    entries = [p for p in environ.get("PATH", "").split(":") if os.path.isabs(p) and "\n" not in p]
    return ":".join(dict.fromkeys([*entries, *_SYSTEM_PATH]))


def _normalise(expr: str) -> str:
    return " ".join(expr.split())


def _command(job: CronJob, root: Path, log_dir: Path, config_path: Path | None, path: str) -> str:
    # `env PATH=` reaches this command only; a PATH= line would also reach the user's jobs below.
    argv = ["env", f"PATH={path}", str(root / "bin" / "agentos"), "run", job.name]
    if config_path is not None:
        argv += ["--config", str(config_path.expanduser().absolute())]
    logs = log_dir.expanduser().absolute()
    log = shlex.quote(str(logs / f"cron-{job.name}.log"))
    # mkdir first: with runtime/ deleted, the redirect would fail and the job would not run at all.
    line = f"mkdir -p {shlex.quote(str(logs))} && {shlex.join(argv)} >> {log} 2>&1"
    return line.replace("%", "\\%")  # cron turns a bare % into a newline


def install(
    jobs: Sequence[CronJob],
    root: Path,
    log_dir: Path,
    config_path: Path | None,
    *,
    tabfile: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> bool:
    """Put this root's block in the crontab; return False when it was already there as is."""
    return _update(tabfile, root, render_block(jobs, root, log_dir, config_path, environ=environ))


def remove(root: Path, *, tabfile: Path | None = None) -> bool:
    """Take this root's block out of the crontab; return False when there was none."""
    return _update(tabfile, root, [])


def show(root: Path, *, tabfile: Path | None = None) -> str:
    """Return this root's block as installed, or one line saying it is not installed."""
    root = _root(root)
    lines = _LINE.findall(_read(tabfile))
    spans = _spans(lines, root, _where(tabfile))
    if not spans:
        return f"not installed: {_where(tabfile)} has no agentos block for {root}"
    return "".join("".join(lines[start : stop + 1]) for start, stop in spans).rstrip("\n")


def _update(tabfile: Path | None, root: Path, block: Sequence[str]) -> bool:
    current = _read(tabfile)
    updated = _splice(current, _root(root), block, _where(tabfile))
    if updated == current:
        return False
    _write(tabfile, updated)
    return True


def _splice(text: str, root: Path, block: Sequence[str], where: str) -> str:
    """Return `text` with the root's block set to `block`: appended if absent, dropped if empty."""
    lines = _LINE.findall(text)
    spans = _spans(lines, root, where)
    new = [line + "\n" for line in block]
    if not spans:
        if new and lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"  # cron needs every line, the last one too, to end in a newline
        return "".join(lines + new)
    inside = {i for start, stop in spans for i in range(start, stop + 1)}
    kept = [line for i, line in enumerate(lines) if i not in inside]
    first = spans[0][0]
    return "".join(kept[:first] + new + kept[first:])


def _spans(lines: Sequence[str], root: Path, where: str) -> list[tuple[int, int]]:
    """Return (begin, end) line indexes of every block for `root`; more than one is repaired."""
    begin, end = (marker.strip() for marker in _markers(root))
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for i, line in enumerate(lines):
        if start is None and line.strip() == begin:
            start = i
        elif start is not None and line.strip() == end:
            spans.append((start, i))
            start = None
    if start is not None:
        raise StateError(
            f"{where}: line {start + 1} opens the agentos block but nothing "
            "closes it; fix it by hand (`crontab -e`), then re-run"
        )
    return spans


def _markers(root: Path) -> tuple[str, str]:
    return f"# >>> agentos {root} >>>", f"# <<< agentos {root} <<<"


def _root(root: Path) -> Path:
    return root.expanduser().resolve()  # one key per checkout, however it was reached


def _where(tabfile: Path | None) -> str:
    return str(tabfile) if tabfile is not None else "your crontab"


def _read(tabfile: Path | None) -> str:
    if tabfile is not None:
        try:
            return tabfile.read_bytes().decode("utf-8", "surrogateescape")
        except FileNotFoundError:
            return ""
    done = _crontab("-l")
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip()
        if "no crontab for" in error:
            return ""
        raise StateError(f"`crontab -l` failed: {error}")
    return done.stdout.decode("utf-8", "surrogateescape")


def _write(tabfile: Path | None, text: str) -> None:
    data = text.encode("utf-8", "surrogateescape")  # bytes we could not decode go back as they were
    if tabfile is not None:
        atomic_write(tabfile.resolve(), data)
        return
    done = _crontab("-", stdin=data)
    if done.returncode != 0:
        raise StateError(f"`crontab -` failed: {done.stderr.decode('utf-8', 'replace').strip()}")


def _crontab(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    binary = shutil.which("crontab")
    if binary is None:
        raise StateError(
            "no `crontab` command here: install cron, or use `bin/agentos cron install --systemd`"
        )
    return subprocess.run([binary, *args], input=stdin, capture_output=True, timeout=60)


# systemd


def systemd_units(
    jobs: Sequence[CronJob],
    root: Path,
    config_path: Path | None,
    *,
    environ: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """Return a .service and a .timer unit per job, by file name (output goes to the journal)."""
    root = _root(root)
    path = search_path(environ)
    units: dict[str, str] = {}
    for job in jobs:
        units[f"agentos-{job.name}.service"] = _service(job, root, config_path, path)
        units[f"agentos-{job.name}.timer"] = _timer(job)
    return units


def _service(job: CronJob, root: Path, config_path: Path | None, path: str) -> str:
    argv = [str(root / "bin" / "agentos"), "run", job.name]
    if config_path is not None:
        argv += ["--config", str(config_path.expanduser().absolute())]
    command = " ".join(_unit_word(arg, expands_dollar=i > 0) for i, arg in enumerate(argv))
    return (
        f"[Unit]\nDescription=Agent OS: run the {job.name} job\n\n"
        f"[Service]\nType=oneshot\nWorkingDirectory={str(root).replace('%', '%%')}\n"
        f"Environment={_unit_word('PATH=' + path, expands_dollar=False)}\n"
        f"ExecStart={command}\n"
    )


def _timer(job: CronJob) -> str:
    return (
        f"[Unit]\nDescription=Agent OS: schedule the {job.name} job ({job.schedule})\n\n"
        f"[Timer]\nOnCalendar={on_calendar(job.schedule)}\nPersistent=true\n\n"
        f"[Install]\nWantedBy=timers.target\n"
    )


def _unit_word(value: str, *, expands_dollar: bool) -> str:
    """Quote a word for a unit file: % is a specifier; ExecStart= expands $ after the program."""
    if _UNIT_SAFE.fullmatch(value):
        return value
    value = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return '"' + (value.replace("$", "$$") if expands_dollar else value) + '"'


def on_calendar(expr: str) -> str:
    """Return the systemd OnCalendar= form of a cron expression, or raise UsageError naming it."""
    problem = validate_schedule(expr)
    if problem:
        raise UsageError(problem)
    minute, hour, day, month, weekday = CronSlices(expr.split())
    if not _is_every(day) and not _is_every(weekday):
        raise UsageError(
            f"cannot translate {expr!r} to systemd OnCalendar=: cron runs it when the "
            "day of month OR the day of week matches, systemd only when both do"
        )
    days = "" if _is_every(weekday) else _weekdays(weekday) + " "
    return f"{days}*-{_calendar(month)}-{_calendar(day)} {_calendar(hour)}:{_calendar(minute)}:00"


def _is_every(field: CronSlice) -> bool:
    return bool(field.render() == "*")


def _calendar(field: CronSlice) -> str:
    if _is_every(field):
        return "*"
    return ",".join(_calendar_part(part) for part in sorted(field.parts, key=int))


def _calendar_part(part: int | CronValue | CronRange) -> str:
    if not isinstance(part, CronRange):
        return f"{int(part):02d}"
    if part.render().startswith("*/"):  # every n-th value of the whole field: 0/5, 1/2
        return f"{int(part.vfrom)}/{part.seq}"
    if part.seq == 1:
        return f"{int(part.vfrom):02d}..{int(part.vto):02d}"
    return ",".join(f"{value:02d}" for value in part.range())  # systemd has no a..b/step


def _weekdays(field: CronSlice) -> str:
    names: list[str] = []
    for part in sorted(field.parts, key=int):
        if isinstance(part, CronRange) and part.seq == 1:
            names.append(f"{_WEEKDAYS[int(part.vfrom)]}..{_WEEKDAYS[int(part.vto)]}")
        elif isinstance(part, CronRange):
            names.extend(_WEEKDAYS[value] for value in part.range())
        else:
            names.append(_WEEKDAYS[int(part)])
    return ",".join(names)
