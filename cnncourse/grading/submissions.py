"""Find the submissions in a folder and check each notebook before nbgrader sees it.

Layout (nbgrader's, as intake.collect writes it): <folder>/<student>/<chapter>/<notebook>.ipynb. Every problem is described in
plain words, per submission, naming the file and what will happen ("cannot grade this notebook", "0 points"),
so the instructor can act on it; nothing here raises for a student's mistake.
"""

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

# Characters that nbgrader would read as a glob pattern in a student id.
_GLOB_CHARS = set("*?[]")


@dataclass
class Found:
    """One <student>/<chapter> folder of the input, and what validation made of it."""

    student: str
    chapter: str
    folder: Path
    valid: list = field(default_factory=list)  # names (with .ipynb) that can be graded
    rejected: list = field(default_factory=list)  # names (with .ipynb) that will not be copied for grading
    problems: list = field(default_factory=list)  # plain-words messages
    fatal: str = ""  # set when the whole submission cannot be graded

    @property
    def key(self):
        return f"{self.student}/{self.chapter}" if self.chapter else self.student


def _visible_dirs(folder):
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def discover(root, known_chapters, chapters=None):
    """List the submissions under `root` (intake.collect's nbgrader layout) as Found records, sorted by student and chapter.

    Chapter folders not in `chapters` (when given) are left out silently; chapter folders that are no chapter of
    the course are kept, with `fatal` set. Raises ValueError when `root` holds no submission at all.
    """
    root = Path(root)
    found = []
    for student_dir in _visible_dirs(root):
        student = student_dir.name
        stray = sorted(p.name for p in student_dir.glob("*.ipynb") if p.is_file())
        if stray:
            f = Found(student, "", student_dir)
            f.fatal = (
                f"{', '.join(stray)} lie(s) directly in {student}/, outside a chapter folder: not graded "
                f"(expected {student}/<chapter>/<notebook>.ipynb)"
            )
            found.append(f)
        for chapter_dir in _visible_dirs(student_dir):
            chapter = chapter_dir.name
            if chapters and chapter not in chapters:
                continue
            f = Found(student, chapter, chapter_dir)
            if _GLOB_CHARS & set(student):
                f.fatal = f"the student folder name {student!r} contains one of {''.join(sorted(_GLOB_CHARS))}: rename it"
            elif chapter not in known_chapters:
                close = difflib.get_close_matches(chapter, known_chapters, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]}? " if close else ""
                f.fatal = f"unknown chapter {chapter!r}: {hint}the chapters are {', '.join(known_chapters)}; not graded"
            found.append(f)
    if not found:
        raise ValueError(f"{root} holds no submission: expected {root}/<student>/<chapter>/<notebook>.ipynb")
    return found


def check_notebook(path):
    """Return None when `path` is a notebook nbgrader can read, else the reason in plain words."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        return f"is not UTF-8 text (byte {err.start})"
    except OSError as err:
        return f"cannot be read ({err.strerror})"
    if not text.strip():
        return "is empty"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        return f"is not valid JSON (line {err.lineno})"
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        return "is JSON but not a notebook (no cells)"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several types for a malformed notebook
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"is not a valid notebook ({first[:120]})"
    return None


def validate(found, expected):
    """Check the notebooks of one submission against the chapter's notebook names `expected` (with .ipynb).

    Fills found.valid, found.rejected and found.problems; sets found.fatal when no notebook can be graded.
    """
    if found.fatal:
        return found
    present = sorted(p.name for p in found.folder.glob("*.ipynb") if p.is_file())
    missing = [name for name in expected if name not in present]
    for name in present:
        if name in expected:
            reason = check_notebook(found.folder / name)
            if reason:
                found.rejected.append(name)
                found.problems.append(f"{name} {reason}: cannot grade this notebook, 0 points for it")
            else:
                found.valid.append(name)
        else:
            found.rejected.append(name)
            close = difflib.get_close_matches(name, missing or expected, n=1, cutoff=0.4)
            hint = f"expected {close[0]} (rename it)" if close else f"expected one of {', '.join(expected)}"
            found.problems.append(f"{name} is not a notebook of {found.chapter}: {hint}; it was not graded")
    for name in missing:
        found.problems.append(f"{name} is missing: 0 points for it")
    if not found.valid:
        found.fatal = "no notebook that can be graded; nothing recorded"
    return found
