"""Every bad config, whatever its bytes, ends in exit 2 and one line per problem naming its key.

The corpus is data. tests/config/corpus/*.yaml are bad configs written out, each naming in
`# expect:` comments the problem lines it must give (`{dir}` is the config's folder);
corpus/overrides/*.yaml are bad overrides.yaml files over a valid config (`{state}` is
runtime/state). The cases better made than stored (huge, binary, odd kinds of file) are
built below. Each goes through `agentos check` and through a job's tick, as cron runs it.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from tests.helpers import ENV

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
MIB = 1 << 20
BASE = """repos:
  - key: app
    github: acme/app
github:
  token: $GITHUB_TOKEN
agents:
  backends:
    script:
      type: command
      argv: ["true"]
"""  # valid: every case below breaks it one way
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d \S+ config\.invalid ")  # the event, echoed on stderr


def expected(text: str) -> list[str]:
    """Return the `# expect:` lines of a corpus file."""
    return [line.split("# expect: ", 1)[1] for line in text.splitlines() if "# expect: " in line]


def billion_laughs() -> str:
    """Return the classic alias bomb: ten levels, each ten aliases of the one before."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return BASE + "\n".join(lines) + "\n"


def fan_config() -> str:
    """Return a config whose trusted_users are 20,000 aliases of one bad item (within bounds)."""
    head, _, tail = BASE.partition("agents:\n")
    users = "  trusted_users: [" + ", ".join(["*bad"] * 20_000) + "]\n"
    return "bad: &bad [1]\n" + head + users + "agents:\n" + tail


# name: (the file's bytes, the fragments its problem lines must hold)
GENERATED: dict[str, tuple[bytes, list[str]]] = {
    "empty_file": (
        b"",
        [
            "repos: expected a non-empty list of repositories, got null",
            "github: is required (at least `token: $GITHUB_TOKEN`)",
        ],
    ),
    "utf16_with_bom": (BASE.encode("utf-16"), ["is UTF-16 text; save it as UTF-8"]),
    "utf16_big_endian_bom": (
        b"\xfe\xff" + BASE.encode("utf-16-be"),
        ["is UTF-16 text; save it as UTF-8"],
    ),
    "utf32_with_bom": (BASE.encode("utf-32"), ["is UTF-32 text; save it as UTF-8"]),
    "latin1_bytes": (
        (BASE + "# café\n").encode("latin-1"),
        ["line 11: byte 0xe9 is not UTF-8; save it as UTF-8"],
    ),
    "nul_byte": (BASE.encode() + b"extra: a\x00b\n", ["line 11: holds the character '\\x00'"]),
    "control_character": (
        BASE.encode() + b"extra: \x07\n",
        ["line 11: holds the character '\\x07'"],
    ),
    "png_bytes": (
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        ["line 1: byte 0x89 is not UTF-8; save it as UTF-8"],
    ),
    "gzipped_config": (gzip.compress(BASE.encode(), mtime=0), ["line 1: byte 0x8b is not UTF-8"]),
    "lone_surrogate_bytes": (BASE.encode() + b"x: \xed\xa0\x80\n", ["line 11: byte 0xed"]),
    "five_megabytes": (b"# padding\n" * (MIB // 2), ["is larger than 1024 KiB"]),
    "one_byte_over_the_limit": (b"#" * (MIB + 1), ["is larger than 1024 KiB"]),
    "flow_nesting_30000": (
        b"[" * 30_000 + b"]" * 30_000,
        ["line 1: nested deeper than 64 levels of brackets"],
    ),
    "flow_mapping_nesting_30000": (
        b"{a: " * 30_000 + b"}" * 30_000,
        ["line 1: nested deeper than 64 levels of brackets"],
    ),
    "flow_nesting_in_a_section": (
        (BASE + "limits: " + "[" * 65 + "]" * 65 + "\n").encode(),
        ["line 11: nested deeper than 64 levels of brackets"],
    ),
    "block_sequence_nesting_30000": (
        b"- " * 30_000 + b"x\n",
        ["line 1: indented deeper than 200 levels"],
    ),
    "block_mapping_nesting_1000": (
        "".join(" " * i + f"k{i}:\n" for i in range(1000)).encode(),
        ["line 201: indented deeper than 200 levels"],
    ),
    "complex_key_nesting_30000": (b"? " * 30_000 + b"x\n", ["indented deeper than 200 levels"]),
    "alias_bomb": (
        billion_laughs().encode(),
        ["its aliases expand to more than 100000 values"],
    ),
    "alias_fan_of_bad_items": (
        fan_config().encode(),
        [
            "bad: unknown key",
            "github.trusted_users[0]: expected a non-empty string, got a list of 1 integer",
            "more problems",
        ],
    ),
    "integer_of_5000_digits": (
        (BASE + "limits:\n  max_attempts: " + "9" * 5000 + "\n").encode(),
        ["holds a value YAML cannot read: Exceeds the limit (4300 digits)"],
    ),
    "sexagesimal_integer": (
        (BASE + "limits:\n  max_attempts: " + ":".join(["59"] * 3000) + "\n").encode(),
        ["limits.max_attempts: expected at most 100, got an integer of about"],
    ),
    "key_of_100000_characters": (
        (BASE + "? " + "x" * 100_000 + "\n: 1\n").encode(),
        ["xxx'...: unknown key"],
    ),
}


def _directory(folder: Path) -> Path:
    (folder / "config.yaml").mkdir()
    return folder / "config.yaml"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "config.yaml")
    return folder / "config.yaml"


def _unreadable(folder: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text(BASE)
    path.chmod(0)
    return path


ODD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a_directory": (_directory, "is a directory, expected a YAML file"),
    "a_fifo": (_fifo, "is not a regular file, expected a YAML file"),
    "unreadable": (_unreadable, "cannot be read: Permission denied"),
}


def write_case(folder: Path, name: str) -> tuple[Path, list[str]]:
    """Write the named case as folder/config.yaml; return its path and expected fragments."""
    path = folder / "config.yaml"
    if name in GENERATED:
        data, fragments = GENERATED[name]
        path.write_bytes(data)
        return path, fragments
    if name in ODD_FILES:
        make, fragment = ODD_FILES[name]
        return make(folder), [fragment]
    text = (CORPUS / f"{name}.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    return path, [e.replace("{dir}", str(folder)) for e in expected(text)]


TEXT_CASES = sorted(p.stem for p in CORPUS.glob("*.yaml"))
ALL_CASES = TEXT_CASES + list(GENERATED) + list(ODD_FILES)
OVERRIDES_CASES = sorted(p.stem for p in (CORPUS / "overrides").glob("*.yaml"))


def problem_lines_of_check(out: str, err: str, source: Path) -> list[str]:
    """Return check's problem lines, asserting its whole output is FAIL lines then a count."""
    lines = out.splitlines()
    assert lines and re.fullmatch(r"\d+ problem\(s\) to fix; see docs/config\.md\.", lines[-1])
    fails = lines[:-1]
    assert int(lines[-1].split()[0]) == len(fails) > 0
    prefix = f"FAIL {source}: "
    assert all(line.startswith(prefix) for line in fails), fails[:3]
    assert err == ""
    return [line.removeprefix(prefix) for line in fails]


def problem_lines_of_run(err: str, source: Path) -> list[str]:
    """Return a tick's problem lines, asserting stderr is the error and the logged event."""
    lines = err.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("agentos: "))
    assert all(LOG_LINE.match(line) for line in lines[:start]), lines[:start]
    assert lines[start] == f"agentos: {source} is invalid:"
    problems = lines[start + 1 :]
    assert problems and all(line.startswith("  ") and line.strip() for line in problems)
    return [line[2:] for line in problems]


def assert_refused(
    path: Path, source: Path, fragments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Check `path` through `check` and through a dispatcher tick: exit 2, one line each."""
    code = main(["--config", str(path), "check"], environ=ENV)
    out, err = capsys.readouterr()
    assert code == 2, out + err
    checked = problem_lines_of_check(out, err, source)
    code = main(["--config", str(path), "run", "dispatcher"], environ=ENV)
    out, err = capsys.readouterr()
    assert code == 2 and out == "", out + err
    ticked = problem_lines_of_run(err, source)
    for lines in (checked, ticked):
        assert "Traceback" not in "".join(lines) and "unexpected error" not in "".join(lines)
        assert all(len(line) <= 300 for line in lines)
        for fragment in fragments:
            assert any(fragment in line for line in lines), (fragment, lines)
    assert checked == ticked or all(line.startswith("paths.") for line in ticked)


def test_the_corpus_is_big_enough_and_each_text_case_says_what_it_expects() -> None:
    assert len(ALL_CASES) >= 60 and len(OVERRIDES_CASES) >= 10
    for name in TEXT_CASES + [f"overrides/{n}" for n in OVERRIDES_CASES]:
        assert expected((CORPUS / f"{name}.yaml").read_text(encoding="utf-8")), name


@pytest.mark.parametrize("name", ALL_CASES)
def test_a_bad_config_exits_2_with_one_line_per_problem_naming_its_key(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if name == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    path, fragments = write_case(tmp_path, name)
    assert_refused(path, path, fragments, capsys)


@pytest.mark.parametrize("name", OVERRIDES_CASES)
def test_a_bad_overrides_file_exits_2_naming_it(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(BASE)
    state = tmp_path / "runtime" / "state"
    state.mkdir(parents=True)
    text = (CORPUS / "overrides" / f"{name}.yaml").read_text(encoding="utf-8")
    (state / "overrides.yaml").write_text(text)
    fragments = [e.replace("{state}", str(state)) for e in expected(text)]
    assert_refused(path, state / "overrides.yaml", fragments, capsys)


@pytest.mark.parametrize(
    "data, fragment",
    [
        ("limits: {max_attempts: 2}\n".encode("utf-16"), "is UTF-16 text"),
        (b"limits: {max_attempts: 2} # \xe9\n", "line 1: byte 0xe9 is not UTF-8"),
        (b"limits: " + b"[" * 100 + b"\n", "line 1: nested deeper than 64 levels of brackets"),
        (billion_laughs().encode(), "its aliases expand to more than 100000 values"),
    ],
    ids=["utf16", "latin1", "deep", "alias_bomb"],
)
def test_overrides_of_any_bytes_exit_2_naming_the_file(
    data: bytes, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(BASE)
    (tmp_path / "runtime" / "state").mkdir(parents=True)
    overrides = tmp_path / "runtime" / "state" / "overrides.yaml"
    overrides.write_bytes(data)
    assert_refused(path, overrides, [fragment], capsys)


def test_an_overrides_path_that_is_a_directory_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(BASE)
    overrides = tmp_path / "runtime" / "state" / "overrides.yaml"
    overrides.mkdir(parents=True)
    assert_refused(path, overrides, ["is a directory, expected a YAML file"], capsys)


SUBPROCESS_CASES = [
    "flow_nesting_30000",
    "block_sequence_nesting_30000",
    "alias_bomb",
    "five_megabytes",
    "utf16_with_bom",
    "limits_workers_huge",
]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_the_real_command_exits_2_and_never_crashes(name: str, tmp_path: Path) -> None:
    """A YAML nested 30,000 levels deep used to kill the process with SIGSEGV in libyaml."""
    path, fragments = write_case(tmp_path, name)
    for words in (["check"], ["run", "dispatcher"]):
        done = subprocess.run(
            [str(ROOT / "bin" / "agentos"), "--config", str(path), *words],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"], **ENV},
            timeout=60,
        )
        assert done.returncode == 2, (done.returncode, done.stderr[-500:])
        said = done.stdout + done.stderr
        assert "Traceback" not in said and "unexpected error" not in said
        assert all(fragment in said for fragment in fragments)
