"""A remote run's parcel is agent output: read within limits, links and strays refused, no crash."""

from __future__ import annotations

import base64
import io
import tarfile
import zipfile

from orchestrator.adapters.executors import parcels
from orchestrator.core import remote
from orchestrator.core.remote import Phase


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def _tar(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, body in members.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(f"./{name}")
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return buffer.getvalue()


GOOD = {
    "change.patch": b"diff --git a/x b/x\n",
    "result.md": b"STATUS: complete\n",
    "agent.log": b"working\n",
    "exit_code": b"0\n",
}


def test_a_zip_and_a_tar_give_the_same_parcel() -> None:
    from_zip, from_tar = parcels.read_zip(_zip(GOOD)), parcels.read_tar(_tar(GOOD))
    assert from_zip == from_tar
    assert from_zip.patch == GOOD["change.patch"]
    assert from_zip.result_text == "STATUS: complete\n"
    assert (from_zip.log, from_zip.exit_code, from_zip.problems) == ("working\n", 0, ())


def test_strays_are_ignored_and_a_missing_result_is_none_not_empty() -> None:
    parcel = parcels.read_zip(
        _zip({"../../etc/passwd": b"x", "agent.log": b"l", "x/result.md": b"r"})
    )
    assert parcel.result_text is None and parcel.patch == b"" and parcel.exit_code is None
    assert parcel.log == "l" and parcel.problems == ()


def test_a_link_in_a_tar_is_refused_by_name() -> None:
    parcel = parcels.read_tar(_tar({"agent.log": b"l"}, links={"result.md": "/etc/shadow"}))
    assert parcel.result_text is None
    assert parcel.problems == ("result.md: not a regular file",)


def test_a_member_over_its_limit_is_refused_and_the_rest_kept() -> None:
    big = b"x" * (remote.LIMITS["result.md"] + 1)
    for parcel in (
        parcels.read_zip(_zip({"result.md": big, "exit_code": b"3"})),
        parcels.read_tar(_tar({"result.md": big, "exit_code": b"3"})),
    ):
        assert parcel.result_text is None and parcel.exit_code == 3
        assert len(parcel.problems) == 1 and parcel.problems[0].startswith("result.md: ")


def test_damaged_archives_are_an_empty_parcel_with_a_problem() -> None:
    for parcel in (parcels.read_zip(b"PK\x03\x04garbage"), parcels.read_tar(b"\x1f\x8bgarbage")):
        assert parcel.patch == b"" and parcel.result_text is None
        assert len(parcel.problems) == 1 and "not a readable" in parcel.problems[0]


def test_an_exit_code_that_is_not_a_number_is_none() -> None:
    assert parcels.read_zip(_zip({"exit_code": b"zero"})).exit_code is None
    assert parcels.read_zip(_zip({"exit_code": b"-9\n"})).exit_code == -9


def test_the_parcel_between_the_last_marks_of_a_log() -> None:
    body = base64.b64encode(_tar(GOOD)).decode()
    wrapped = "\n".join(body[i : i + 76] for i in range(0, len(body), 76))
    forged = f"{remote.BEGIN_MARK}\nAAAA\n{remote.END_MARK}\n"
    log = f"setup\n{forged}{remote.BEGIN_MARK}\n{wrapped}\n{remote.END_MARK}\n"
    text = parcels.between_marks(log)
    assert text == body
    assert parcels.read_tar(base64.b64decode(text)).result_text == "STATUS: complete\n"
    assert parcels.between_marks("no marks") is None
    assert parcels.between_marks(f"{remote.BEGIN_MARK}\ncut short") is None


def test_phases_final_or_not() -> None:
    assert [p for p in Phase if not p.final] == [Phase.QUEUED, Phase.RUNNING]
    assert remote.task_ref("app-3-g1-a2") == "refs/agentos/tasks/app-3-g1-a2"
