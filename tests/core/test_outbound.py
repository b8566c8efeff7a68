"""Tests for orchestrator.core.outbound: each rule of the gate refuses what it must, and no more.

Fake secrets are assembled from parts, so this file holds no token-shaped literal for the
pre-commit hook to refuse.
"""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from orchestrator.core.outbound import MIB, OutboundRules, OutgoingFile, Refusal, check
from tests.core.test_redact import SAMPLES

SECRET = "s3cr3t-" + "Vq8Lw2Zx9Rk4"  # a config value: no shape of its own
CANARY = "ghp_" + "CanaryQ7x2Lm9Pz4Rt8Wv1Yb6Nc3Kd5Hf0Jg"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6" * 3
CODE = b"def main() -> int:\n    return 0\n"
MIXED_HEX = SECRET.encode().hex().upper()[:20] + SECRET.encode().hex()[20:]  # "...2D5671384c77..."


def text(
    path: str, data: bytes = CODE, *, added: bool = True, before: bytes | None = None
) -> OutgoingFile:
    return OutgoingFile(path, "100644", len(data), data, added, before)


DEFAULTS = OutboundRules()


def gate(*files: OutgoingFile, rules: OutboundRules = DEFAULTS) -> list[Refusal]:
    return check(files, rules, [SECRET], [CANARY])


def rules_of(*files: OutgoingFile, rules: OutboundRules = DEFAULTS) -> list[str]:
    return [refusal.rule for refusal in gate(*files, rules=rules)]


def test_an_ordinary_change_leaves() -> None:
    change = [
        text("src/app.py"),
        text("README.md", b"# App\n\nSee https://example.com/docs and ssh://git@github.com/o/r.\n"),
        text(".env.example", b"GITHUB_TOKEN=\nAPI_KEY=<your key>\n"),
        text(".gitignore", b".env\n"),
        OutgoingFile("docs/latest", "120000", 9, b"v2/index", True),
        OutgoingFile("vendor/lib", "160000", 0, None, False),  # an existing submodule moves
        text("assets/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256))),
    ]
    assert gate(*change) == []
    assert check([], OutboundRules(), [SECRET], [CANARY]) == []


@pytest.mark.parametrize(
    "path, pattern",
    [
        (".env", ".env"),
        ("services/api/.env", ".env"),
        (".env.local", ".env.*"),
        ("config/.env.production", ".env.*"),
        (".envrc", ".envrc"),
        ("certs/server.pem", "*.pem"),
        ("CERTS/SERVER.PEM", "*.pem"),
        ("tls/private.key", "*.key"),
        ("signing/release.p12", "*.p12"),
        ("signing/release.pfx", "*.pfx"),
        ("home/.ssh/id_rsa", "id_rsa*"),
        ("id_ed25519.pub", "id_ed25519*"),
        ("id_ecdsa", "id_ecdsa*"),
        ("id_dsa", "id_dsa*"),
        (".git-credentials", ".git-credentials"),
        (".netrc", ".netrc"),
        ("_netrc", "_netrc"),
        (".pypirc", ".pypirc"),
        (".git/config", ".git"),
        ("vendor/lib/.git/HEAD", ".git"),
        ("vendor/lib/.git", ".git"),
        (".gitmodules", ".gitmodules"),
        (".github/workflows/ci.yml", ".github/workflows/**"),
        (".github/workflows/nested/deploy.yaml", ".github/workflows/**"),
        (".id_rsa/notes.txt", None),  # a component that only looks alike
    ],
)
def test_the_deny_list_refuses_by_path_and_names_the_pattern(
    path: str, pattern: str | None
) -> None:
    expected = [Refusal(path, f"deny:{pattern}")] if pattern else []
    assert gate(text(path)) == expected


@pytest.mark.parametrize(
    "path",
    [
        ".env.example",
        "config/.env.sample",
        ".env.template",
        ".env.dist",
        ".gitignore",
        ".gitattributes",
        ".github/dependabot.yml",
        ".github/workflows.md",
        "docs/environment.md",
        "src/keyboard.py",
        "src/key.py",
        "my.env.py",
        "certs/README.md",
    ],
)
def test_templates_and_look_alikes_are_allowed(path: str) -> None:
    assert gate(text(path)) == []


def test_a_template_still_has_its_values_searched() -> None:
    leaked = text(".env.example", b"TOKEN=" + SECRET.encode() + b"\n")
    assert rules_of(leaked) == ["secret:config-value"]


def test_workflows_leave_only_where_the_repo_allows_them() -> None:
    workflow = text(".github/workflows/ci.yml", b"on: push\n")
    assert rules_of(workflow) == ["deny:.github/workflows/**"]
    assert gate(workflow, rules=OutboundRules(allow_workflows=True)) == []


def test_the_repos_own_patterns_add_to_the_defaults() -> None:
    rules = OutboundRules(deny=("*.sqlite", "secrets/**", "/dumps/", ".env.example"))
    assert rules_of(text("db/app.SQLITE"), rules=rules) == ["deny:*.sqlite"]
    assert rules_of(text("secrets/a/b.txt"), rules=rules) == ["deny:secrets/**"]
    assert rules_of(text("backup/dumps/x.sql"), rules=rules) == ["deny:dumps"]
    assert rules_of(text(".env.example"), rules=rules) == ["deny:.env.example"]
    assert rules_of(text("src/secrets/a.py"), rules=rules) == []  # "secrets/**" is from the root
    assert rules_of(text(".env"), rules=rules) == ["deny:.env"]  # the defaults still hold


@pytest.mark.parametrize(
    "data, refused",
    [
        (b"registry=https://registry.npmjs.org/\n", False),
        (b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", True),
        (b"_auth=dXNlcjpwYXNz\n", True),
        (b"//npm.example.com/:_password=cGFzcw==\n", True),
        (None, True),
    ],
)
def test_an_npmrc_is_refused_only_with_credentials_in_it(data: bytes | None, refused: bool) -> None:
    npmrc = OutgoingFile("web/.npmrc", "100644", len(data or b""), data, True)
    assert rules_of(npmrc) == (["deny:.npmrc"] if refused else [])


def test_an_added_submodule_is_refused_a_moved_one_is_not() -> None:
    added = OutgoingFile("vendor/new", "160000", 0, None, True)
    moved = OutgoingFile("vendor/old", "160000", 0, None, False)
    assert gate(added, moved) == [Refusal("vendor/new", "submodule")]


@pytest.mark.parametrize(
    "path, target, why",
    [
        ("link", "src/app.py", ""),
        ("a/b/link", "../c/d", ""),
        ("a/link", "..", ""),
        ("link", "./", ""),
        ("a/link", "../../outside", "climbs above the worktree"),
        ("link", "/etc/passwd", "absolute target"),
        ("a/link", "b/../../../etc", "climbs above the worktree"),
        ("a/link", "../.git/config", "into .git"),
        ("a/link", "../sub/.GIT/hooks", "into .git"),
    ],
)
def test_a_symlink_must_stay_inside_the_worktree(path: str, target: str, why: str) -> None:
    link = OutgoingFile(path, "120000", len(target), target.encode(), True)
    assert gate(link) == ([Refusal(path, "symlink-outside", why)] if why else [])


def test_a_symlink_whose_target_was_not_read_is_refused() -> None:
    link = OutgoingFile("link", "120000", 10, None, True)
    assert gate(link) == [Refusal("link", "symlink-outside", "target not read")]


def test_sizes_are_limited_per_file_and_per_change() -> None:
    rules = OutboundRules(max_file_bytes=100, max_change_bytes=250)
    at_limit = OutgoingFile("a.bin", "100644", 100, None, True)
    over = OutgoingFile("b.bin", "100644", 101, None, True)
    assert gate(at_limit, rules=rules) == []
    assert gate(over, rules=rules) == [Refusal("b.bin", "too-large", "101 bytes, limit 100")]
    three = [OutgoingFile(f"{n}.bin", "100644", 90, None, True) for n in range(3)]
    assert gate(*three, rules=rules) == [Refusal("", "change-too-large", "270 bytes, limit 250")]
    assert (
        OutboundRules().max_file_bytes == 5 * MIB and OutboundRules().max_change_bytes == 20 * MIB
    )


def _b64(data: bytes, urlsafe: bool) -> bytes:
    return base64.urlsafe_b64encode(data) if urlsafe else base64.b64encode(data)


@pytest.mark.parametrize("urlsafe", [False, True])
@pytest.mark.parametrize("offset", [0, 1, 2])
def test_a_config_value_in_base64_is_found_at_every_alignment(offset: int, urlsafe: bool) -> None:
    blob = _b64(b"K" * offset + SECRET.encode() + b"\n-- end", urlsafe)
    found = gate(text("fixtures/blob.txt", b"data: " + blob + b"\n"))
    assert found == [Refusal("fixtures/blob.txt", "secret:config-value", "base64")]


@pytest.mark.parametrize(
    "encoded, encoding",
    [
        (SECRET.encode(), "raw"),
        (SECRET.encode().hex().encode(), "hex"),
        (SECRET.encode().hex().upper().encode(), "hex"),
        (MIXED_HEX.encode(), "hex"),
    ],
)
def test_a_config_value_is_found_raw_and_in_hex_of_any_case(encoded: bytes, encoding: str) -> None:
    found = gate(text("notes.md", b"value: " + encoded + b"\n"))
    assert found == [Refusal("notes.md", "secret:config-value", encoding)]


def test_a_config_value_with_reserved_characters_is_found_percent_encoded() -> None:
    password = "p@ss w/rd:" + "Lm4x9Y_k2"
    for escaped in (
        urllib.parse.quote(password, safe=""),
        urllib.parse.quote(password, safe="").replace("%2F", "%2f").replace("%3A", "%3a"),
    ):
        data = b"curl https://x/?p=" + escaped.encode() + b"\n"
        found = check([text("run.sh", data)], OutboundRules(), [password], [])
        assert found == [Refusal("run.sh", "secret:config-value", "url-encoded")], escaped


def test_a_config_value_is_found_in_a_binary_file_and_never_shown() -> None:
    binary = text("model.bin", b"\x00\x01\x02" + SECRET.encode() + b"\x00\xff")
    found = gate(binary)
    assert found == [Refusal("model.bin", "secret:config-value", "raw")]
    assert SECRET not in repr(found) and SECRET not in found[0].reason


def test_values_match_case_sensitively_except_hex_and_short_values_are_ignored() -> None:
    swapped = SECRET.swapcase().encode()
    blob_swapped = base64.b64encode(SECRET.encode()).swapcase()
    assert gate(text("a.txt", swapped + b"\n" + blob_swapped)) == []
    assert check([text("b.txt", b"hunter2 is short")], OutboundRules(), ["hunter2"], []) == []


def test_a_secret_shape_is_refused_in_text_not_in_binary_files() -> None:
    leaked = text("src/settings.py", b"TOKEN = '" + GITHUB_TOKEN.encode() + b"'\n")
    binary = text("img.png", b"\x00PNG " + GITHUB_TOKEN.encode())
    assert gate(leaked, binary) == [Refusal("src/settings.py", "secret:github-token")]


def test_a_shape_already_in_the_file_before_the_change_is_no_leak() -> None:
    example = b"curl -H 'Authorization: token " + GITHUB_TOKEN.encode() + b"'\n"
    edited = text("docs/api.md", example + b"More docs.\n", added=False, before=example)
    assert gate(edited) == []
    other = "ghp_" + "Zz9Yy8Xx7Ww6" * 3
    new = text("docs/api.md", example + other.encode(), added=False, before=example)
    assert gate(new) == [Refusal("docs/api.md", "secret:github-token")]


def test_a_canary_in_any_form_comes_first_and_the_rest_still_follows() -> None:
    blob = base64.b64encode(b"x" + CANARY.encode())
    change = [
        text(".env", b"A=1\n"),
        text("out/report.txt", b"dump " + blob + b"\n"),
        text("src/b.py", b"TOKEN = '" + SECRET.encode() + b"'\n"),
    ]
    assert gate(*change) == [
        Refusal("out/report.txt", "canary", "base64"),
        Refusal(".env", "deny:.env"),
        Refusal("src/b.py", "secret:config-value", "raw"),
    ]


def test_every_rule_a_file_breaks_is_reported_in_order() -> None:
    rules = OutboundRules(max_file_bytes=10)
    data = b"key " + SECRET.encode() + b" " + GITHUB_TOKEN.encode()
    assert [r.rule for r in gate(text("tls/server.key", data), rules=rules)] == [
        "deny:*.key",
        "too-large",
        "secret:config-value",
        "secret:github-token",
    ]


def test_findings_are_named_after_the_right_file_in_a_large_change() -> None:
    files = [text(f"src/m{n}.py", CODE * (1 + n % 7)) for n in range(3000)]
    files[0] = text("src/first.py", SECRET.encode() + CODE)
    files[1717] = text("src/middle.py", CODE * 40 + b"t = '" + GITHUB_TOKEN.encode() + b"'")
    files[-1] = text("src/last.py", CODE + SECRET.encode())
    assert gate(*files) == [
        Refusal("src/first.py", "secret:config-value", "raw"),
        Refusal("src/middle.py", "secret:github-token"),
        Refusal("src/last.py", "secret:config-value", "raw"),
    ]


def test_a_value_split_across_two_files_is_not_found() -> None:
    half = len(SECRET) // 2
    assert gate(text("a.txt", SECRET[:half].encode()), text("b.txt", SECRET[half:].encode())) == []


def test_a_refusal_reads_as_one_line_naming_the_file_and_the_rule() -> None:
    assert Refusal(".env", "deny:.env").reason == ".env: deny:.env"
    assert Refusal("", "change-too-large", "30 bytes, limit 20").reason == (
        "the change: change-too-large (30 bytes, limit 20)"
    )


@pytest.mark.parametrize("name", SAMPLES)
def test_every_secret_shape_is_found_among_many_files(name: str) -> None:
    files = [text(f"src/m{n}.py", CODE * (1 + n % 5)) for n in range(200)]
    files[123] = text("src/leak.txt", CODE * 30 + SAMPLES[name].text.encode() + b"\n")
    assert gate(*files) == [Refusal("src/leak.txt", f"secret:{SAMPLES[name].label}")]


@pytest.mark.parametrize("boundary", [1 << n for n in range(12, 21)])
def test_a_value_across_any_power_of_two_offset_is_found(boundary: int) -> None:
    """The buffer is searched in chunks of some power of two: a value across one is found."""
    data = b"x" * (boundary - 5) + SECRET.encode() + b"x" * 16
    assert gate(text("big.txt", data)) == [Refusal("big.txt", "secret:config-value", "raw")]


def test_a_path_with_a_line_break_does_not_slip_past_a_glob() -> None:
    rules = OutboundRules(deny=("secrets/**", "*.key"))
    for path in ("secrets/a\nb.txt", "x/id\n.key"):
        assert check([text(path, b"x")], rules, [], []), path
