"""The crontab block and the systemd timers.

Always against temporary tabfiles, never a real crontab.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from crontab import CronSlices

from orchestrator.cli import cron
from orchestrator.cli.cron import CronJob
from orchestrator.errors import StateError, UsageError

ENVIRON = {"PATH": "/home/me/.local/bin:/opt/node/bin:bin:/usr/bin:/home/me/.local/bin"}
JOBS = [CronJob("dispatcher", "* * * * *"), CronJob("pr_monitor", "*/5 * * * *")]

# What a hand-kept crontab looks like; python-crontab's own round trip would rewrite most of
# these lines.
USER_TAB = (
    b"# m h  dom mon dow   command\n"
    b'MAILTO="me@example.com"\n'
    b"\n"
    b"0 3 * * *\t/usr/local/bin/backup   --full   # keep this\n"
    b"0 * * * * /usr/bin/hourly.sh\n"
    b'*/10  *  *  *  *  echo "100%" >> /tmp/x\n'
    b"  # indented comment \xe9t\xe9 in latin-1\n"
    b"this line is not a cron line\n"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path.resolve() / "agent os"


@pytest.fixture
def tab(tmp_path: Path) -> Path:
    return tmp_path / "crontab"


def install(root: Path, tab: Path, jobs=JOBS, config: Path | None = None) -> bool:
    return cron.install(jobs, root, root / "runtime" / "logs", config, tabfile=tab, environ=ENVIRON)


def stamp(path: Path) -> tuple[int, int, bytes]:
    """Return what any write would change: inode (atomic replace), mtime (in-place write), bytes.

    The mtime is first set far in the past, so a write in the same clock tick still shows.
    """
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    info = path.stat()
    return info.st_ino, info.st_mtime_ns, path.read_bytes()


def unchanged(path: Path, before: tuple[int, int, bytes]) -> bool:
    info = path.stat()
    return (info.st_ino, info.st_mtime_ns, path.read_bytes()) == before


def block_count(text: str, root: Path) -> int:
    return text.count(f"# >>> agentos {root} >>>\n")


# install, show, remove


def test_install_into_a_missing_tab_writes_only_the_block(root: Path, tab: Path) -> None:
    assert install(root, tab, config=root / "config.yaml") is True

    lines = tab.read_text().splitlines()
    assert lines[0] == f"# >>> agentos {root} >>>"
    assert lines[-1] == f"# <<< agentos {root} <<<"
    assert len(lines) == 2 + 1 + len(JOBS)  # markers, the managed-by comment, one line per job
    dispatcher = next(line for line in lines if " run dispatcher " in line)
    assert dispatcher.startswith("* * * * * mkdir -p ")
    assert f"'{root}/bin/agentos' run dispatcher --config '{root}/config.yaml'" in dispatcher
    assert dispatcher.endswith(f">> '{root}/runtime/logs/cron-dispatcher.log' 2>&1")


def test_installing_twice_keeps_one_block_and_does_not_write(root: Path, tab: Path) -> None:
    install(root, tab)
    before = stamp(tab)

    assert install(root, tab) is False
    assert unchanged(tab, before)
    assert block_count(tab.read_text(), root) == 1


def test_user_lines_are_kept_byte_for_byte_and_remove_restores_the_file(
    root: Path, tab: Path
) -> None:
    tab.write_bytes(USER_TAB)

    install(root, tab)
    assert tab.read_bytes().startswith(USER_TAB)
    assert cron.remove(root, tabfile=tab) is True
    assert tab.read_bytes() == USER_TAB


def test_changing_a_schedule_rewrites_the_block_in_place(root: Path, tab: Path) -> None:
    lines = USER_TAB.splitlines(keepends=True)
    head, tail = b"".join(lines[:3]), b"".join(lines[3:])
    tab.write_bytes(head)
    install(root, tab)
    tab.write_bytes(tab.read_bytes() + tail)  # the user added lines after our block

    changed = [CronJob("dispatcher", "*/2 * * * *"), JOBS[1]]
    assert install(root, tab, jobs=changed) is True

    text = tab.read_bytes()
    assert text.startswith(head) and text.endswith(tail)
    block = text[len(head) : -len(tail)].decode()
    assert block == "".join(
        line + "\n"
        for line in cron.render_block(
            changed, root, root / "runtime" / "logs", None, environ=ENVIRON
        )
    )
    assert "\n*/2 * * * * " in block and "\n* * * * * " not in block


def test_remove_takes_out_only_our_block_and_is_idempotent(root: Path, tab: Path) -> None:
    tab.write_bytes(USER_TAB)
    install(root, tab)
    tab.write_bytes(tab.read_bytes() + b"@reboot /usr/bin/after-ours\n")

    assert cron.remove(root, tabfile=tab) is True
    assert tab.read_bytes() == USER_TAB + b"@reboot /usr/bin/after-ours\n"
    before = stamp(tab)
    assert cron.remove(root, tabfile=tab) is False
    assert unchanged(tab, before)


def test_remove_from_a_missing_tab_creates_nothing(root: Path, tab: Path) -> None:
    assert cron.remove(root, tabfile=tab) is False
    assert not tab.exists()


def test_two_checkouts_keep_their_own_blocks(root: Path, tab: Path) -> None:
    # its marker starts with ours: matching must be exact
    other = root.with_name(root.name + "-two")
    install(root, tab)
    install(other, tab)
    assert block_count(tab.read_text(), root) == 1 and block_count(tab.read_text(), other) == 1

    other_block = cron.show(other, tabfile=tab)
    install(root, tab, jobs=[CronJob("dispatcher", "0 * * * *")])
    cron.remove(root, tabfile=tab)

    assert cron.show(other, tabfile=tab) == other_block
    assert tab.read_text() == other_block + "\n"


def test_show_returns_the_installed_block_or_says_it_is_not_installed(
    root: Path, tab: Path
) -> None:
    assert cron.show(root, tabfile=tab).startswith("not installed:")
    tab.write_bytes(USER_TAB)
    install(root, tab)

    expected = cron.render_block(JOBS, root, root / "runtime" / "logs", None, environ=ENVIRON)
    assert cron.show(root, tabfile=tab) == "\n".join(expected)


def test_a_last_line_without_newline_gets_one_before_the_block(root: Path, tab: Path) -> None:
    """cron drops a final line that has no newline.

    That newline is the only byte we add to the user's lines.
    """
    tab.write_bytes(b"5 4 * * * /usr/bin/nightly")
    install(root, tab)
    assert tab.read_bytes().startswith(b"5 4 * * * /usr/bin/nightly\n# >>> agentos ")


def test_duplicated_blocks_collapse_into_one_where_the_first_was(root: Path, tab: Path) -> None:
    block = "".join(
        line + "\n"
        for line in cron.render_block(JOBS, root, root / "runtime" / "logs", None, environ=ENVIRON)
    )
    tab.write_text("# mine\n" + block + "# middle\n" + block + "# end\n")

    assert install(root, tab) is True
    assert tab.read_text() == "# mine\n" + block + "# middle\n# end\n"


def test_an_unclosed_block_is_an_error_and_nothing_is_written(root: Path, tab: Path) -> None:
    tab.write_text(f"# >>> agentos {root} >>>\n* * * * * /usr/bin/mine\n")
    before = stamp(tab)

    with pytest.raises(StateError, match="line 1 opens the agentos block but nothing closes it"):
        install(root, tab)
    assert unchanged(tab, before)


# What the lines run


def test_paths_with_spaces_and_percent_survive_cron_and_the_shell(tmp_path: Path) -> None:
    root = tmp_path.resolve() / "agent os 100%"
    fake = root / "bin" / "agentos"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        '#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/argv"\necho "PATH=$PATH"\n'
        "echo oops >&2\n"
    )
    fake.chmod(0o755)
    config = root / "my config.yaml"
    logs = root / "run time" / "logs"  # does not exist yet: the line must create it

    line = cron.render_block(JOBS[:1], root, logs, config, environ=ENVIRON)[2]
    command = line.split(" ", 5)[5]
    assert re.search(r"(?<!\\)%", command) is None  # cron would cut the command at a bare %
    subprocess.run(
        ["/bin/sh", "-c", command.replace("\\%", "%")], check=True, env={"PATH": "/usr/bin:/bin"}
    )

    assert (root / "bin" / "argv").read_text().splitlines() == [
        "run",
        "dispatcher",
        "--config",
        str(config),
    ]
    log = (logs / "cron-dispatcher.log").read_text()
    assert f"PATH={cron.search_path(ENVIRON)}\n" in log and "oops\n" in log


def test_search_path_keeps_the_installers_absolute_entries_then_the_system_ones() -> None:
    assert (
        cron.search_path(ENVIRON)
        == "/home/me/.local/bin:/opt/node/bin:/usr/bin:/usr/local/bin:/bin"
    )
    assert cron.search_path({}) == "/usr/local/bin:/usr/bin:/bin"


def test_the_block_sets_path_per_command_not_for_the_whole_crontab(root: Path) -> None:
    """A PATH= line would also apply to every user job below the block."""
    lines = cron.render_block(JOBS, root, root / "logs", None, environ=ENVIRON)
    assert not any(line.startswith("PATH") for line in lines)
    assert all(f" env PATH={cron.search_path(ENVIRON)} " in line for line in lines[2:-1])


def test_a_line_break_in_a_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="line break"):
        cron.render_block(JOBS, tmp_path / "bad\nroot", tmp_path, None, environ=ENVIRON)


# The user's crontab through the `crontab` command (a fake one: this machine has none)

FAKE_CRONTAB = """#!/bin/sh
case "$1" in
  -l) if [ -f '{folder}/tab' ]; then /bin/cat '{folder}/tab'; \
else echo "no crontab for tester" >&2; exit 1; fi ;;
  -) /bin/cat > '{folder}/tab'; echo write >> '{folder}/writes' ;;
  *) exit 2 ;;
esac
"""


@pytest.fixture
def fake_crontab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "fakebin"
    folder.mkdir()
    (folder / "crontab").write_text(FAKE_CRONTAB.format(folder=folder))
    (folder / "crontab").chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    assert shutil.which("crontab") == str(folder / "crontab")  # never the real one
    return folder


def test_the_users_crontab_is_read_with_crontab_l_and_written_once(
    root: Path, fake_crontab: Path
) -> None:
    assert cron.install(JOBS, root, root / "logs", None, environ=ENVIRON) is True
    assert cron.install(JOBS, root, root / "logs", None, environ=ENVIRON) is False

    assert (fake_crontab / "writes").read_text() == "write\n"
    assert cron.show(root) == "\n".join(
        cron.render_block(JOBS, root, root / "logs", None, environ=ENVIRON)
    )
    assert cron.remove(root) is True and (fake_crontab / "tab").read_bytes() == b""


def test_a_failing_crontab_l_is_an_error_not_an_empty_crontab(
    root: Path, fake_crontab: Path
) -> None:
    script = (fake_crontab / "crontab").read_text()
    (fake_crontab / "crontab").write_text(
        script.replace('"no crontab for tester"', '"crontab: permission denied"')
    )
    with pytest.raises(StateError, match="`crontab -l` failed: crontab: permission denied"):
        cron.install(JOBS, root, root / "logs", None, environ=ENVIRON)
    # a crontab we could not read is never overwritten
    assert not (fake_crontab / "writes").exists()


def test_without_a_crontab_command_the_error_points_to_systemd(
    root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StateError, match="--systemd"):
        cron.show(root)


# Validation


@pytest.mark.parametrize(
    "expr",
    [
        "* * * * *",
        "*/5 * * * *",
        "0 9-17 * * mon-fri",
        "5 4 * * 7",
        "0 0 1 jan,jul *",
        " 0  *  * * * ",
    ],
)
def test_valid_schedules_pass(expr: str) -> None:
    assert cron.validate_schedule(expr) is None


@pytest.mark.parametrize(
    "expr, reason",
    [
        ("61 * * * *", "not in 0-59"),
        ("0 24 * * *", "not in 0-23"),
        ("every minute", "2 fields"),
        ("* * *", "3 fields"),
        ("* * * * * *", "6 fields"),
        ("", "0 fields"),
        ("@hourly", "1 fields"),
        ("*/0 * * * *", "Sequence"),
        ("5/10 * * * *", "range"),
        ("* * * */jan *", "'>' not supported"),  # python-crontab raises TypeError here
        ("~ * * * *", "may hold only"),  # python-crontab's random ranges: not every cron has them
        ("\uff11 * * * *", "may hold only"),  # a full-width 1 passes str.isdigit()
    ],
)
def test_invalid_schedules_are_reported_with_the_expression(expr: str, reason: str) -> None:
    problem = cron.validate_schedule(expr)
    assert problem is not None
    assert repr(expr) in problem and reason in problem


def test_a_job_with_an_invalid_schedule_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="61"):
        CronJob("dispatcher", "61 * * * *")
    with pytest.raises(ValueError, match="job name"):
        CronJob("dispatch; rm -rf ~", "* * * * *")


# systemd

CALENDAR = [
    ("* * * * *", "*-*-* *:*:00"),
    ("*/5 * * * *", "*-*-* *:0/5:00"),
    ("0 * * * *", "*-*-* *:00:00"),
    ("15 */6 * * *", "*-*-* 0/6:15:00"),
    ("30 6 * * 1", "Mon *-*-* 06:30:00"),
    ("0 9-17 * * mon-fri", "Mon..Fri *-*-* 09..17:00:00"),
    ("0,30 8,20 * * *", "*-*-* 08,20:00,30:00"),
    ("10-30/10 * * * *", "*-*-* *:10,20,30:00"),
    ("0 0 1 */3 *", "*-1/3-01 00:00:00"),
    ("0 0 1 jan,jul *", "*-01,07-01 00:00:00"),
    ("5 4 * * 7", "Sun *-*-* 04:05:00"),
    ("0 0 * * 5-7", "Sun,Fri..Sat *-*-* 00:00:00"),
    ("0 0 * * */2", "Sun,Tue,Thu,Sat *-*-* 00:00:00"),
    ("0 0 29 2 *", "*-02-29 00:00:00"),
]


@pytest.mark.parametrize("expr, calendar", CALENDAR)
def test_cron_expressions_translate_to_on_calendar(expr: str, calendar: str) -> None:
    assert cron.on_calendar(expr) == calendar


@pytest.mark.parametrize(
    "expr, message",
    [
        # cron: the 1st OR a Monday; systemd would need both
        ("0 0 1 * 1", "cannot translate '0 0 1 * 1'"),
        ("61 * * * *", "'61 * * * *'"),
    ],
)
def test_an_untranslatable_expression_raises_naming_it(expr: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        cron.on_calendar(expr)
    with pytest.raises((UsageError, ValueError)):
        cron.systemd_units([CronJob("dispatcher", expr)], Path("/srv/agentos"), None)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize("expr, calendar", CALENDAR)
def test_systemd_fires_when_cron_would(expr: str, calendar: str) -> None:
    base = datetime(2026, 1, 1, 0, 0)
    done = subprocess.run(
        [
            "systemd-analyze",
            "calendar",
            "--iterations=12",
            f"--base-time={base:%Y-%m-%d %H:%M:%S} UTC",
            calendar,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"TZ": "UTC", "PATH": os.environ.get("PATH", "")},
    )
    fired = [
        datetime.fromisoformat(t)
        for t in re.findall(r"\w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", done.stdout)
    ]
    assert fired == cron_times(expr, after=base, count=12)


def cron_times(expr: str, after: datetime, count: int) -> list[datetime]:
    """Brute-force the next minutes cron would run `expr`.

    The fields combine by AND: we refuse the OR case.
    """
    minute, hour, day, month, weekday = (sorted(set(field)) for field in CronSlices(expr.split()))
    found: list[datetime] = []
    date = after.date()
    while len(found) < count:
        if date.day in day and date.month in month and date.isoweekday() % 7 in weekday:
            times = (datetime(date.year, date.month, date.day, h, m) for h in hour for m in minute)
            found += [t for t in times if t > after][: count - len(found)]
        date += timedelta(days=1)
    return found


def test_systemd_units_run_the_job_once_per_timer_tick(tmp_path: Path) -> None:
    root = tmp_path.resolve() / "agent os"
    units = cron.systemd_units(JOBS, root, root / "my config.yaml", environ=ENVIRON)

    assert sorted(units) == [
        "agentos-dispatcher.service",
        "agentos-dispatcher.timer",
        "agentos-pr_monitor.service",
        "agentos-pr_monitor.timer",
    ]
    service = units["agentos-pr_monitor.service"].splitlines()
    assert "Type=oneshot" in service
    assert f"WorkingDirectory={root}" in service
    assert (
        f'ExecStart="{root}/bin/agentos" run pr_monitor --config "{root}/my config.yaml"' in service
    )
    assert f"Environment=PATH={cron.search_path(ENVIRON)}" in service
    timer = units["agentos-pr_monitor.timer"].splitlines()
    assert "OnCalendar=*-*-* *:0/5:00" in timer and "Persistent=true" in timer
    assert "WantedBy=timers.target" in timer


def test_unit_files_escape_specifiers_and_dollars(tmp_path: Path) -> None:
    """systemd expands % everywhere and $ in ExecStart= arguments, but not in the program path."""
    base = tmp_path.resolve()
    units = cron.systemd_units(JOBS[:1], base / "100% $HOME", base / "$my.yaml", environ={})
    service = units["agentos-dispatcher.service"]
    assert f"WorkingDirectory={base}/100%% $HOME\n" in service
    assert (
        f'ExecStart="{base}/100%% $HOME/bin/agentos" run dispatcher --config "{base}/$$my.yaml"\n'
        in service
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    root = tmp_path.resolve() / "agent os 100% $X"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "agentos").write_text("#!/bin/sh\n")
    (root / "bin" / "agentos").chmod(0o755)  # verify checks that the program exists
    units = cron.systemd_units(
        JOBS, root, tmp_path / "my $config.yaml", environ={"PATH": "/opt/a b/bin"}
    )
    folder = tmp_path / "units"
    folder.mkdir()
    for name, text in units.items():
        (folder / name).write_text(text)

    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(units)],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "")},
    )
    assert done.returncode == 0, done.stderr
