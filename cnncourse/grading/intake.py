"""Bring submissions in any of the usual layouts into nbgrader's <student>/<chapter>/<notebook>.ipynb.

`cnncourse grade` accepts a folder or a .zip (as a learning platform exports it). `collect` copies every notebook it
recognises into a fresh folder laid out the nbgrader way (the input is never modified) and says, per student, what
it did not take and why. Recognised, in one input:

- nbgrader's own: [submitted/]<student>/<chapter>/<notebook>.ipynb;
- one folder per student without chapter folders: <student>/<notebook>.ipynb (the chapter is the one that has a
  notebook of that name; notebook names are unique across chapters);
- Moodle's "download all submissions": <Full Name>_<id>_assignsubmission_file_/<notebook>.ipynb;
- Canvas's flat files: <login>[_LATE]_<user id>_<submission id>_<notebook>[-<n>].ipynb, where -<n> numbers a
  resubmission (the highest is graded).
Two copies of the same notebook for the same student (two folders whose names differ only in case, a resubmission)
are a duplicate: the later one (resubmission number, else modification time) is graded, the other is named in the
student's report. A roster (a CSV or text file of student ids) makes an unknown student an error.
"""

import csv
import difflib
import os
import re
import time
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_ZIP_BYTES = 4 * 2**30  # uncompressed, all members together (a zip bomb stops here)
MAX_ZIP_MEMBERS = 20000
MAX_NOTEBOOK_BYTES = 100 * 2**20  # a notebook larger than this is not graded (nbgrader would read it whole)
# Files that nbgrader's exchange puts beside the notebooks of a submission (submit, then collect): when it was
# submitted (late or not) and the secret that feedback is released under. Carried along with the notebooks.
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_\w*$")
_MOODLE_FEEDBACK = re.compile(r"^.+?_\d+_assignfeedback_\w*$")
_RESUBMISSION = re.compile(r"^(?P<stem>.+?)(?:-(?P<n>\d+)| \((?P<m>\d+)\))$")


class IntakeError(ValueError):
    """The input as a whole cannot be read (not a folder or zip, an unsafe zip): the message says why."""


@dataclass
class Candidate:
    """One notebook file of the input that belongs to a student and a chapter."""

    student: str
    chapter: str
    name: str  # the notebook's file name in the chapter folder (what nbgrader expects, or what the student named it)
    path: Path
    rank: tuple = (0, 0.0)  # (resubmission number, modification time): the highest is graded

    @property
    def source(self):
        return str(self.path)


@dataclass
class Intake:
    """The result of `collect`: the nbgrader-layout folder and what was left out, per <student>/<chapter> key."""

    folder: Path
    problems: dict = field(default_factory=dict)  # {student/chapter or student: [messages]}
    unknown_students: dict = field(default_factory=dict)  # {student: message}

    def note(self, key, message):
        self.problems.setdefault(key, []).append(message)


def slug(text):
    """A student id nbgrader can use: letters, digits, '_', '-', '.'; other runs become '_'."""
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", text).strip("_.") or "unnamed"


def read_roster(path):
    """The student ids of a roster: a CSV with a column id / student / student_id / username, or one id a line."""
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise IntakeError(f"the roster {path} is empty: expected one student id a line, or a CSV with an 'id' column")
    header = [h.strip().lower() for h in rows[0]]
    for column in ("id", "student", "student_id", "username"):
        if column in header:
            i = header.index(column)
            return {r[i].strip() for r in rows[1:] if len(r) > i and r[i].strip()}
    return {r[0].strip() for r in rows if r and r[0].strip()}


def _safe_extract(archive, dest):
    """Extract a zip into `dest`, refusing absolute or escaping paths, links and oversized content."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise IntakeError(f"{archive} is not a readable zip file ({err})") from err
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise IntakeError(f"{archive} holds {len(members)} files, more than {MAX_ZIP_MEMBERS}: not extracted")
        total = sum(m.file_size for m in members)
        if total > MAX_ZIP_BYTES:
            raise IntakeError(f"{archive} would unpack to {total / 2**30:.1f} GiB, more than "
                              f"{MAX_ZIP_BYTES / 2**30:.0f} GiB: not extracted")
        root = dest.resolve()
        for m in members:
            target = (dest / m.filename).resolve()
            if m.filename.startswith("/") or ".." in Path(m.filename).parts or not target.is_relative_to(root):
                raise IntakeError(f"{archive} holds the unsafe path {m.filename!r} (outside the archive's folder): "
                                  f"not extracted")
            if (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise IntakeError(f"{archive} holds a symbolic link {m.filename!r}: not extracted")
        zf.extractall(dest)
        for m in members:  # extraction stamps files with "now": keep the archive's times, which rank resubmissions
            target = dest / m.filename
            if not m.is_dir() and target.is_file():
                stamp = time.mktime(m.date_time + (0, 0, -1))
                os.utime(target, (stamp, stamp))


def _notebooks_by_name(chapter_notebooks):
    """{notebook file name: chapter} from {chapter: [notebook file names]}."""
    return {name: chapter for chapter, names in chapter_notebooks.items() for name in names}


def _flat_match(filename, by_name):
    """(student, notebook name, resubmission number) for a Canvas-style flat file name, or None."""
    stem = filename[: -len(".ipynb")]
    forms = [(stem, 0)]
    match = _RESUBMISSION.match(stem)
    if match:
        forms.append((match.group("stem"), int(match.group("n") or match.group("m"))))
    for candidate, number in forms:
        for name in sorted(by_name, key=len, reverse=True):
            known = name[: -len(".ipynb")]
            if candidate.endswith("_" + known) and len(candidate) > len(known) + 1:
                prefix = candidate[: -len(known) - 1]
                return slug(prefix.split("_")[0]), name, number
    return None


def _student_of_folder(name, moodle_ids):
    """The student id of a top-level folder: its name, or the slug of a Moodle folder's full name.

    Two Moodle folders of different people with the same name (moodle_ids: {slug: set of ids}) get their Moodle id
    appended, so they stay two students.
    """
    moodle = _MOODLE.match(name)
    if not moodle:
        return name
    student = slug(moodle.group("name"))
    return f"{student}_{moodle.group('id')}" if len(moodle_ids.get(student, ())) > 1 else student


def _candidates(root, chapter_notebooks, intake):
    """Every notebook under `root` that can be put in a student's chapter folder, as Candidates."""
    by_name = _notebooks_by_name(chapter_notebooks)
    found = []

    def rank(path, n=0):
        return (n, path.stat().st_mtime)

    moodle_ids = {}
    for path in root.iterdir():
        match = _MOODLE.match(path.name)
        if match and path.is_dir():
            moodle_ids.setdefault(slug(match.group("name")), set()).add(match.group("id"))
    for path in sorted(root.iterdir()):
        if path.name.startswith((".", "__MACOSX")):
            continue
        if _MOODLE_FEEDBACK.match(path.name):
            intake.note(path.name, f"{path.name}/ holds a teacher's feedback files (Moodle), not a submission: skipped")
            continue
        if not path.is_dir():
            if not (path.is_file() and path.suffix == ".ipynb"):
                continue
            flat = _flat_match(path.name, by_name)
            if flat is None:
                intake.note(path.name, f"{path.name} lies at the top of the input and names no student and no "
                                       f"notebook of the course: not graded")
                continue
            student, name, n = flat
            found.append(Candidate(student, by_name[name], name, path, rank(path, n)))
            continue
        student = _student_of_folder(path.name, moodle_ids)
        for inner in sorted(path.iterdir()):
            if inner.name.startswith((".", "_")):
                continue
            if inner.is_dir() and inner.suffix != ".ipynb":  # a chapter folder (known or not: discover reports it)
                for nb in sorted(inner.glob("*.ipynb")):
                    if nb.is_file():
                        found.append(Candidate(student, inner.name, nb.name, nb, rank(nb)))
            elif inner.suffix == ".ipynb" and inner.is_file():
                name = inner.name
                match = _RESUBMISSION.match(inner.stem)
                n = 0
                if name not in by_name and match and f"{match.group('stem')}.ipynb" in by_name:
                    name, n = f"{match.group('stem')}.ipynb", int(match.group("n") or match.group("m"))
                if name in by_name:
                    found.append(Candidate(student, by_name[name], name, inner, rank(inner, n)))
                else:  # left where it is: discover reports a notebook outside a chapter folder
                    found.append(Candidate(student, "", inner.name, inner, rank(inner)))
    return found


def collect(source, chapter_notebooks, dest, roster=None):
    """Copy the submissions of `source` (folder or .zip) into `dest` in nbgrader's layout.

    Args:
        source: a folder or a .zip file of submissions, in any layout of the module docstring.
        chapter_notebooks: {chapter: [notebook file names]} of the course.
        dest: a folder to create (replaced if it exists): dest/<student>/<chapter>/<notebook>.ipynb.
        roster: None (every student is accepted) or a set of student ids; others are reported, not graded.
    Returns:
        Intake. Raises FileNotFoundError for a missing source and IntakeError for an unreadable or unsafe zip.
    """
    source, dest = Path(source), Path(dest)
    if not source.exists():
        raise FileNotFoundError(f"no such folder or zip file: {source}")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    intake = Intake(dest / "submitted")
    intake.folder.mkdir()
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise IntakeError(f"{source} is neither a folder nor a zip file of submissions")
        unpacked = dest / "unpacked"
        unpacked.mkdir()
        _safe_extract(source, unpacked)
        tops = [p for p in unpacked.iterdir() if not p.name.startswith((".", "__MACOSX"))]
        # an export often wraps everything in one folder; descend unless that folder is one student's
        wrapped = len(tops) == 1 and tops[0].is_dir() and not _is_student_folder(tops[0], chapter_notebooks)
        source = tops[0] if wrapped else unpacked
    if (source / "submitted").is_dir():
        source = source / "submitted"

    for sub in source.iterdir():
        if sub.is_dir() and sub.name in chapter_notebooks and any(sub.glob("*.ipynb")):
            raise IntakeError(f"{source} looks like one student's folder ({sub.name}/ is a chapter holding notebooks); "
                              f"pass the folder that holds one folder per student: "
                              f"<folder>/<student>/{sub.name}/*.ipynb")
    candidates = _candidates(source, chapter_notebooks, intake)
    spelling = {}  # folders differing only in case are one student: the roster's spelling, else the first seen
    for c in candidates:
        spelling.setdefault(c.student.casefold(), c.student)
        if roster is not None and c.student in roster:
            spelling[c.student.casefold()] = c.student
    chosen = {}
    for c in candidates:
        c.student = spelling[c.student.casefold()]
        key = (c.student, c.chapter, c.name)
        if key in chosen:
            keep, drop = (c, chosen[key]) if c.rank > chosen[key].rank else (chosen[key], c)
            chosen[key] = keep
            intake.note(f"{keep.student}/{keep.chapter}" if keep.chapter else keep.student,
                        f"two copies of {keep.name} for the same student: graded {keep.source}, left out "
                        f"{drop.source} (the earlier one)")
        else:
            chosen[key] = c
    for c in chosen.values():
        if roster is not None and c.student not in roster:
            close = difflib.get_close_matches(c.student, sorted(roster), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            intake.unknown_students[c.student] = f"unknown student {c.student!r}: not on the roster{hint}; not graded"
            continue
        target = intake.folder / c.student / c.chapter / c.name if c.chapter else intake.folder / c.student / c.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if c.path.stat().st_size > MAX_NOTEBOOK_BYTES:
            intake.note(f"{c.student}/{c.chapter}", f"{c.name} is {c.path.stat().st_size / 2**20:.0f} MiB, more "
                                                    f"than {MAX_NOTEBOOK_BYTES / 2**20:.0f} MiB: not graded, 0 points for it")
            continue
        shutil.copyfile(c.path, target)
        if c.chapter and c.path.parent.name == c.chapter:  # nbgrader's layout: keep the exchange's files
            for name in EXCHANGE_FILES:
                if (c.path.parent / name).is_file() and not (target.parent / name).exists():
                    shutil.copyfile(c.path.parent / name, target.parent / name)
    return intake


def _is_student_folder(folder, chapter_notebooks):
    """True when `folder` is one student's (it holds a chapter folder or a notebook of the course by name)."""
    names = _notebooks_by_name(chapter_notebooks)
    return any((p.is_dir() and p.name in chapter_notebooks) or p.name in names for p in folder.iterdir())
