"""Whether a remote grading worker grades exactly as this machine would: the version and checksum handshake.

A Dask worker (dask_pool.py, remote.py) grades with its own installed cnncourse: the package holds the reference
solutions and the hidden checks the notebooks call, autograder/nbgrader_config.py holds nbgrader's settings, and
nbgrader does the grading. The chapter's source notebooks travel with each task. A worker whose fingerprint differs
from the coordinator's, or a chapter source whose checksum does not match the one the coordinator computed, is
refused with a message that says what differs and what to do.
"""

import hashlib
import platform
from pathlib import Path

import cnncourse
from cnncourse.grading.course import COURSE_DIR, CONFIG_NAME

PACKAGE = Path(cnncourse.__file__).resolve().parent
SKIPPED = ("__pycache__", ".ipynb_checkpoints")


def files_checksum(files):
    """sha256 (hex) over {relative path: bytes}, in path order: names and contents both count."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


def folder_files(folder, suffixes=None):
    """{path relative to `folder` (POSIX): bytes} of the files under `folder`, caches and checkpoints left out.

    suffixes: only files ending so (e.g. (".py",)); None for every file.
    """
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(part in SKIPPED for part in p.relative_to(folder).parts)
            and (suffixes is None or p.name.endswith(tuple(suffixes)))}


def fingerprint():
    """What must be the same on every machine that grades: {name: value} (versions and sha256 checksums).

    cnncourse: the version; package: the checksum of the package's .py files (reference solutions, hidden checks,
    the grader itself); config: the checksum of autograder/nbgrader_config.py; nbgrader and python: versions.
    """
    import nbgrader

    config = COURSE_DIR / CONFIG_NAME
    return {
        "cnncourse": cnncourse.__version__,
        "package": files_checksum(folder_files(PACKAGE, (".py",))),
        "config": hashlib.sha256(config.read_bytes()).hexdigest() if config.is_file() else "missing",
        "nbgrader": nbgrader.__version__,
        "python": ".".join(platform.python_version_tuple()[:2]),
    }


def mismatch(expected, found, where):
    """"" when the fingerprint `found` (of `where`) equals `expected`, else one sentence naming every difference."""
    names = {"cnncourse": "cnncourse version", "package": "cnncourse package checksum",
             "config": "autograder/nbgrader_config.py checksum", "nbgrader": "nbgrader version",
             "python": "Python version"}
    diffs = [f"{names.get(key, key)} {_short(found.get(key))} (the coordinator has {_short(expected.get(key))})"
             for key in sorted(set(expected) | set(found)) if expected.get(key) != found.get(key)]
    if not diffs:
        return ""
    return (f"{where} refused to grade: it has {'; '.join(diffs)}. Every grading worker needs the same cnncourse "
            f"as the coordinator (the full package, not the student edition): install the same release or commit "
            f"there and restart the worker")


def _short(value):
    return value[:12] if isinstance(value, str) and len(value) == 64 else value
