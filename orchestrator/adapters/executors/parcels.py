"""Read a remote run's parcel: a zip (a GitHub Actions artifact) or a gzipped tar in a pod's log.

A parcel is agent output: each member is read within its limit (core.remote.LIMITS), a link, a
device or a stray name is refused or ignored, and a damaged archive is an empty parcel with a
problem line, never a crash.
"""

from __future__ import annotations

import io
import tarfile
import zipfile

from orchestrator.core.remote import (
    BEGIN_MARK,
    END_MARK,
    LIMITS,
    PARCEL_LIMIT,
    Parcel,
    from_members,
)


def read_zip(data: bytes) -> Parcel:
    """Read a parcel from a zip (a GitHub Actions artifact); a damaged zip is an empty parcel."""
    members: dict[str, bytes] = {}
    problems: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data[:PARCEL_LIMIT])) as archive:
            for info in archive.infolist():
                name = info.filename
                if name not in LIMITS or info.is_dir() or name in members:
                    continue
                if info.file_size > LIMITS[name]:
                    problems.append(f"{name}: {info.file_size} bytes, over {LIMITS[name]}")
                    continue
                with archive.open(info) as handle:
                    body = handle.read(LIMITS[name] + 1)
                if len(body) > LIMITS[name]:  # the header lied about the size
                    problems.append(f"{name}: over {LIMITS[name]} bytes")
                    continue
                members[name] = body
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        problems.append(f"the parcel is not a readable zip: {error}"[:200])
    return from_members(members, tuple(problems))


def read_tar(data: bytes) -> Parcel:
    """Read a parcel from a gzipped tar (a pod's log); links and devices are refused."""
    members: dict[str, bytes] = {}
    problems: list[str] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data[:PARCEL_LIMIT]), mode="r:gz") as archive:
            for info in archive:
                name = info.name.removeprefix("./")
                if name not in LIMITS or name in members:
                    continue
                if not info.isreg():
                    problems.append(f"{name}: not a regular file")
                    continue
                if info.size > LIMITS[name]:
                    problems.append(f"{name}: {info.size} bytes, over {LIMITS[name]}")
                    continue
                handle = archive.extractfile(info)
                if handle is not None:
                    members[name] = handle.read(LIMITS[name] + 1)[: LIMITS[name]]
    except (tarfile.TarError, OSError, EOFError, ValueError) as error:
        problems.append(f"the parcel is not a readable tar: {error}"[:200])
    return from_members(members, tuple(problems))


def between_marks(log: str) -> str | None:
    """Return the text between the last begin mark and the end mark after it, or None."""
    begin = log.rfind(BEGIN_MARK)
    if begin < 0:
        return None
    end = log.find(END_MARK, begin)
    if end < 0:
        return None
    return "".join(log[begin + len(BEGIN_MARK) : end].split())
