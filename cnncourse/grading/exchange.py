"""The instructor's side of nbgrader's exchange: release a chapter, collect it, release its feedback.

`cnncourse release | collect | feedback CHAPTER` are thin shells over nbgrader's own API (NbGraderAPI, whose
exchange classes are configured in autograder/nbgrader_config.py: Exchange.root). Students fetch, submit and fetch
their feedback with nbgrader itself (the Assignment List, or `nbgrader fetch_assignment | submit | fetch_feedback`).
What this module adds is the plain-words report, per student and chapter, of what nbgrader does silently or stops on:

- an exchange folder whose permissions keep students out (nbgrader's student side only says "Unwritable directory");
- a submission made with an older release of the chapter: the checksums that nbgrader writes into the release's
  grade, solution and read-only cells differ from those of the release now in the exchange;
- a student who submitted more than once: nbgrader collects the latest; a grade recorded for an earlier one is kept
  (`cnncourse grade` reports it as already graded; --force regrades);
- a late submission (after the due date set with `release --due`): nbgrader records it as late when it grades;
- feedback asked for a student who never submitted, or for a submission that did not come through the exchange.
Nothing here writes to the gradebook except the chapter's due date (`release --due`).
"""

import datetime
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnncourse.grading.course import COURSE_DIR, CourseError, NbgraderRun, load_course, notebook_environment
from cnncourse.grading.intake import EXCHANGE_FILES

# What students need of each exchange folder (nbgrader's own modes): (mode bits, what they allow, nbgrader's mode).
_ROOT = (0o007, "read, write and enter it (nbgrader's student side refuses a root it cannot write)", "0777")
_PUBLIC = (0o005, "list and read it, to fetch the chapter", "0755")
_INBOUND = (0o003, "write into it, to submit", "2733")
_FEEDBACK = (0o001, "enter it, to fetch their feedback", "0711")


@dataclass
class ExchangeReport:
    """What a command did: one line per student or step, and the problems (each names student and chapter)."""

    chapter: str
    lines: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    def text(self):
        return "\n".join(self.lines + [f"PROBLEM: {p}" for p in self.problems])


def _course(course_dir, chapter):
    """The loaded course, after checking that `chapter` is one of its chapters."""
    course = load_course(course_dir)
    if chapter not in course.chapters():
        raise CourseError(f"unknown chapter {chapter!r}: the chapters are {', '.join(course.chapters()) or 'none'}")
    return course


def exchange_root(course):
    """The exchange folder of `course` (Exchange.root of its nbgrader_config.py), as a Path."""
    from nbgrader.exchange.default import Exchange

    return Path(str(course.config.Exchange.get("root", Exchange.root.default_value)))


def student_config(course):
    """The text of a student's nbgrader_config.py for `course`: its course id and exchange folder."""
    return ("c = get_config()\n"
            f"c.CourseDirectory.course_id = {course.course_id!r}\n"
            f"c.Exchange.root = {str(exchange_root(course))!r}\n")


def _api(course):
    from nbgrader.apps.api import NbGraderAPI

    return NbGraderAPI(config=course.config)


def permission_problems(course, chapter):
    """[messages] for the exchange folders of `course` that exist with a mode that keeps students out of `chapter`.

    Checked on the mode bits for other users (students are other users), so the answer does not depend on who asks.
    """
    root = exchange_root(course)
    course_path = root / course.course_id
    folders = [(root, _ROOT), (course_path, _PUBLIC), (course_path / "outbound", _PUBLIC),
               (course_path / "outbound" / chapter, _PUBLIC), (course_path / "inbound", _INBOUND),
               (course_path / "feedback", _FEEDBACK)]
    problems = []
    for path, (bits, allows, wanted) in folders:
        if not path.is_dir():
            continue
        mode = path.stat().st_mode
        if mode & bits != bits:
            problems.append(f"{chapter}: the exchange folder {path} has mode {stat.filemode(mode)} "
                            f"({mode & 0o7777:04o}): students must {allows}; fix it with: chmod {wanted} {path}")
    return problems


def set_due_date(course, chapter, due):
    """Record `due` (a datetime, or text such as "2026-12-10 17:00 UTC") as the chapter's due date; return it (UTC)."""
    from nbgrader.utils import parse_utc

    try:
        when = parse_utc(due)
    except (ValueError, OverflowError) as err:
        raise CourseError(f"{chapter}: cannot read the due date {due!r} ({err}); expected e.g. '2026-12-10 17:00 UTC'")
    with notebook_environment(), course.gradebook() as gb:
        gb.update_or_create_assignment(chapter, duedate=when)
    return when


def due_date(course, chapter):
    """The chapter's due date recorded in the gradebook (naive UTC datetime), or None."""
    from nbgrader.api import MissingEntry

    with notebook_environment(), course.gradebook() as gb:
        try:
            return gb.find_assignment(chapter).duedate
        except MissingEntry:
            return None


def release(chapter, course_dir=COURSE_DIR, due=None, force=False):
    """Release the built student notebooks of `chapter` (the course's release folder) into the exchange.

    Args:
        chapter: a chapter of the course (a folder of source/), built by `cnncourse build`.
        due: optional due date (datetime or text); submissions after it are recorded as late.
        force: replace a release already in the exchange (students who fetched the old one are named at collect).
    Returns an ExchangeReport. Raises CourseError for an unknown or unbuilt chapter.
    """
    course = _course(course_dir, chapter)
    report = ExchangeReport(chapter)
    built = course.release / chapter
    if not any(built.glob("*.ipynb")):
        raise CourseError(f"{chapter} is not built: {built} holds no notebook; run `cnncourse build --chapter {chapter}`")
    outbound = exchange_root(course) / course.course_id / "outbound" / chapter
    if outbound.is_dir() and not force:
        raise CourseError(f"{chapter} is already released ({outbound}); `--force` replaces it: students who fetched "
                          f"the old release and submit it are named by `cnncourse collect {chapter}`")
    if due is not None:
        when = set_due_date(course, chapter, due)
        report.lines.append(f"{chapter}: due {when:%Y-%m-%d %H:%M:%S} UTC (recorded in the gradebook)")
    with notebook_environment():
        run = _release_assignment(course, chapter, force)
    if not run["success"]:
        report.problems.append(f"{chapter}: nbgrader release_assignment failed: {_reason(run)}")
        return report
    report.lines += [f"{chapter}: nbgrader: {message}" for message in _warnings(run)]
    names = sorted(p.name for p in outbound.glob("*.ipynb"))
    report.lines.append(f"{chapter}: released {len(names)} notebook(s) to {outbound}: {', '.join(names)}")
    report.lines.append(f"{chapter}: students fetch it with the Assignment List or `nbgrader fetch_assignment "
                        f"{chapter}`; their nbgrader config needs: course_id {course.course_id!r}, Exchange.root "
                        f"{str(exchange_root(course))!r}")
    report.problems += permission_problems(course, chapter)
    return report


def _release_assignment(course, chapter, force):
    """nbgrader's release_assignment, as NbGraderAPI runs it, with its --force; returns capture_log's dict."""
    from nbgrader.utils import capture_log

    api = _api(course)
    api.coursedir.assignment_id = chapter
    app = api.exchange.ReleaseAssignment(coursedir=api.coursedir, authenticator=api.authenticator, parent=api)
    app.force = force
    return capture_log(app)


def _warnings(run):
    """nbgrader's warnings in a capture_log result, each on one line."""
    return [" ".join(message.split()) for message in NbgraderRun("exchange", True, log=run.get("log", "")).records("WARNING")]


def _reason(run):
    """nbgrader's last error line from a capture_log result."""
    lines = [line for line in (run.get("log", "") + run.get("error", "")).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("[ERROR]", "[CRITICAL]"))]
    return (errors or lines or ["unknown error"])[-1]


# --- the release a submission was made with --------------------------------------------------------------------

def fingerprint(nb):
    """{grade_id: checksum} of the nbgrader cells of a notebook, as the release wrote them."""
    return {cell.metadata.nbgrader["grade_id"]: cell.metadata.nbgrader.get("checksum")
            for cell in nb.cells if "grade_id" in cell.get("metadata", {}).get("nbgrader", {})}


def release_differences(released, submitted):
    """[messages] naming the notebooks and cells of `submitted` (a folder) that differ from the release `released`.

    Compares the checksums that nbgrader stored in each cell's metadata when it generated the release: a student
    cannot change them from JupyterLab, so a difference means the notebook came from another release.
    """
    out = []
    for path in sorted(Path(released).glob("*.ipynb")):
        theirs = Path(submitted) / path.name
        if not theirs.is_file():
            continue
        try:
            mine, other = fingerprint(nbformat.read(str(path), as_version=4)), fingerprint(nbformat.read(str(theirs), as_version=4))
        except Exception:  # noqa: BLE001 -- an unreadable notebook is reported by `cnncourse grade`
            continue
        changed = sorted(g for g in mine.keys() & other.keys() if mine[g] != other[g])
        gone, extra = sorted(other.keys() - mine.keys()), sorted(mine.keys() - other.keys())
        parts = ([f"cells {', '.join(changed)} differ"] if changed else []) + (
            [f"cells {', '.join(gone)} are no longer in the chapter"] if gone else []) + (
            [f"cells {', '.join(extra)} are new"] if extra else [])
        if parts:
            out.append(f"{path.name}: {'; '.join(parts)}")
    return out


# --- collect ---------------------------------------------------------------------------------------------------

def _submissions(inbound, chapter):
    """{student: [(timestamp, folder)] newest first} of the chapter's submissions in the inbound folder."""
    from nbgrader.utils import parse_utc

    found = {}
    for path in inbound.glob(f"*+{chapter}+*"):
        parts = path.name.rsplit("+", 3)
        if len(parts) < 3 or parts[1] != chapter:
            continue
        try:
            found.setdefault(parts[0], []).append((parse_utc(parts[2]), path))
        except (ValueError, OverflowError):
            continue
    return {s: sorted(v, key=lambda item: item[0], reverse=True) for s, v in sorted(found.items())}


def _unreadable(folder):
    """(files we cannot read, files other users cannot read) under a submission folder."""
    denied, private = [], []
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            path = Path(dirpath) / name
            if not os.access(path, os.R_OK):
                denied.append(path)
            elif not path.stat().st_mode & stat.S_IROTH:
                private.append(path)
    return denied, private


def _timestamp(folder):
    from nbgrader.utils import parse_utc

    path = Path(folder) / "timestamp.txt"
    return parse_utc(path.read_text().strip()) if path.is_file() else None


def collect(chapter, course_dir=COURSE_DIR):
    """Collect the latest submission of every student of `chapter` into the course's submitted/ folder.

    Calls nbgrader's collect (update=True) once per student, so that one unreadable submission does not stop the
    others. Returns an ExchangeReport: per student, what was collected and which of the cases of the module
    docstring apply. Raises CourseError when the chapter is unknown or was never released.
    """
    course = _course(course_dir, chapter)
    report = ExchangeReport(chapter)
    inbound = exchange_root(course) / course.course_id / "inbound"
    if not inbound.is_dir():
        raise CourseError(f"{chapter}: nothing to collect, {inbound} does not exist: release the chapter first "
                          f"(`cnncourse release {chapter}`)")
    if not os.access(inbound, os.R_OK | os.X_OK):
        raise CourseError(f"{chapter}: cannot list {inbound} (mode {stat.filemode(inbound.stat().st_mode)}): the "
                          f"instructor who collects must own it or be able to read it; nothing was collected")
    report.problems += permission_problems(course, chapter)
    released = exchange_root(course) / course.course_id / "outbound" / chapter
    due = due_date(course, chapter)
    submissions = _submissions(inbound, chapter)
    if not submissions:
        report.lines.append(f"{chapter}: no submission in {inbound}")
        return report
    api = _api(course)
    for student, versions in submissions.items():
        key = f"{student}/{chapter}"
        when, folder = versions[0]
        denied, private = _unreadable(folder)
        if denied:
            report.problems.append(f"{key}: cannot read {student}'s submission of {chapter} ({denied[0]}): not "
                                   f"collected; nbgrader submit makes it readable to all, so its mode was changed "
                                   f"since: ask an administrator to run chmod -R a+rX {folder}")
            continue
        if private:
            report.lines.append(f"{key}: {len(private)} file(s) of {student}'s submission of {chapter} are not "
                                f"readable to other users (e.g. {private[0]}, mode "
                                f"{stat.filemode(private[0].stat().st_mode)}): collected, but nbgrader submit "
                                f"writes them 0644; check who changed them")
        target = course.path("submitted_directory", student, chapter)
        before = _timestamp(target) if target.is_dir() else None
        recorded = _recorded(course, chapter, student)
        api.coursedir.student_id = student
        with notebook_environment():
            run = api.collect(chapter, update=True)
        if not run["success"]:
            report.problems.append(f"{key}: nbgrader collect failed for {student}: {_reason(run)}")
            continue
        report.lines += [f"{key}: nbgrader: {message}" for message in _warnings(run)]
        after = _timestamp(target)
        line = f"{key}: collected the submission of {when:%Y-%m-%d %H:%M:%S} UTC"
        if len(versions) > 1:
            line += (f", the latest of {len(versions)} ({student} submitted {len(versions)} times: nbgrader "
                     f"collects each student's latest submission)")
        if before is not None and after == before:
            line = f"{key}: nothing new, the submission of {before:%Y-%m-%d %H:%M:%S} UTC was collected before"
        elif before is not None and recorded is not None:
            line += (f"; it replaces the one of {before:%Y-%m-%d %H:%M:%S} UTC, whose recorded grade "
                     f"({recorded[0]:g}/{recorded[1]:g}) is kept: `cnncourse grade` reports it as already graded, "
                     f"and `cnncourse grade {course.root / 'submitted'} --chapter {chapter} --force` regrades "
                     f"{student} with the new one")
        report.lines.append(line)
        if due is not None and when > due:
            report.lines.append(f"{key}: LATE, submitted {_duration(when - due)} after the due date "
                                f"({due:%Y-%m-%d %H:%M:%S} UTC); nbgrader records it as late when it is graded")
        differences = release_differences(released, target) if released.is_dir() else []
        if differences:
            report.problems.append(f"{key}: {student} submitted {chapter} made with an older release of the chapter "
                                   f"({'; '.join(differences)}): collected, and graded against the current tests; "
                                   f"ask {student} to fetch the chapter again (after saving their work) if that is "
                                   f"not fair")
    return report


def _duration(delta):
    seconds = int(delta.total_seconds())
    return str(datetime.timedelta(seconds=seconds))


def _recorded(course, chapter, student):
    """(score, max_score) recorded in the gradebook for the student's chapter, or None."""
    from nbgrader.api import MissingEntry

    with notebook_environment(), course.gradebook() as gb:
        try:
            submission = gb.find_submission(chapter, student)
        except MissingEntry:
            return None
        return float(submission.score), float(submission.max_score)


# --- feedback --------------------------------------------------------------------------------------------------

def release_feedback(chapter, course_dir=COURSE_DIR, students=None):
    """Release the feedback HTML of `chapter` (written by `cnncourse grade`) to the students through the exchange.

    Args:
        students: release only these students' feedback (a list of ids); None for every student that has some.
    Returns an ExchangeReport: one line per student released; a problem for a named student with no submission
    or no feedback, and for feedback that nbgrader cannot release (no exchange submission behind it). Students in
    the gradebook who never submitted the chapter are named in a line. Raises CourseError for an unknown chapter.
    """
    course = _course(course_dir, chapter)
    report = ExchangeReport(chapter)
    feedback_root = course.root / "feedback"
    have = sorted(p.parent.name for p in feedback_root.glob(f"*/{chapter}") if any(p.glob("*.html")))
    with notebook_environment(), course.gradebook() as gb:
        known = sorted(s.id for s in gb.students)
    for student in students or []:
        if student not in have:
            report.problems.append(_no_feedback(course, chapter, student))
    api = _api(course)
    for student in [s for s in (students or have) if s in have]:
        folder = course.path("feedback_directory", student, chapter)
        missing = [name for name in EXCHANGE_FILES if not (folder / name).is_file()]
        if missing:
            report.problems.append(f"{student}/{chapter}: {student}'s feedback for {chapter} ({folder}) lacks "
                                   f"{', '.join(missing)}: it was graded from files that did not come through the "
                                   f"exchange, so nbgrader cannot release it; hand the HTML back another way")
            continue
        api.coursedir.student_id = student
        with notebook_environment():
            run = api.release_feedback(chapter, student_id=student)
        if not run["success"]:
            report.problems.append(f"{student}/{chapter}: nbgrader release_feedback failed: {_reason(run)}")
            continue
        names = sorted(p.name for p in folder.glob("*.html"))
        note = ""
        submitted = course.path("submitted_directory", student, chapter)
        if _timestamp(submitted) not in (None, _timestamp(folder)):
            note = (f"; NOTE: it is the feedback of the submission of {_timestamp(folder):%Y-%m-%d %H:%M:%S} UTC, "
                    f"a later one was collected since and is not graded yet")
        report.lines.append(f"{student}/{chapter}: feedback released ({', '.join(names)}){note}")
    if students is None:
        collected = {p.parent.name for p in (course.root / "submitted").glob(f"*/{chapter}")}
        for student in sorted(set(known) | collected):
            if student not in have:
                report.lines.append(_no_feedback(course, chapter, student))
        if not have:
            report.lines.append(f"{chapter}: no feedback to release yet: `cnncourse grade` writes it in "
                                f"{feedback_root}/<student>/{chapter}/")
    return report


def _no_feedback(course, chapter, student):
    """Why `student` has no feedback for `chapter`, in plain words."""
    if course.path("submitted_directory", student, chapter).is_dir():
        return (f"{student}/{chapter}: no feedback to release: {student}'s submission of {chapter} is collected but "
                f"not graded yet; run `cnncourse grade {course.root / 'submitted'} --chapter {chapter}`")
    return (f"{student}/{chapter}: no feedback to release: {student} never submitted {chapter} (nothing collected, "
            f"no grade recorded)")
