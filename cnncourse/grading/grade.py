"""`cnncourse grade <folder>`: autograde a folder of submissions, write feedback HTML and a grades CSV.

For each <student>/<chapter> of the folder (nbgrader's submitted/ layout), in this order:
1. validate: unknown chapter, unreadable / invalid notebooks, misnamed and missing notebooks are reported in
   plain words (submissions.py); a notebook that cannot be graded scores 0, like a missing one;
2. skip a submission that already has autograded results (a recorded grade is never silently replaced;
   force=True / --force regrades it and replaces the recorded autograde);
3. stage the gradable files into <course>/.grading/submitted/ (the input folder is never modified);
4. nbgrader autograde, in fast mode, one call per submission: a failure is caught and reported, and the next
   submission is graded;
5. nbgrader generate_feedback into <course>/feedback/<student>/<chapter>/.
Before the first submission of a chapter, nbgrader generate_assignment runs into a scratch release folder
(<course>/.grading/release/), so that the gradebook holds the chapter exactly as source/ has it now; the
repository's release/ is not touched.
Outputs: <out>/grades.csv (one row per student and chapter) and <out>/grade_cells.csv (one row per grade cell),
with out = the course directory (autograder/) by default.
"""

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from cnncourse.grading.course import COURSE_DIR, WORK_DIR, CourseError, load_course, notebook_environment, run_nbgrader
from cnncourse.grading.submissions import discover, submissions_root, validate

GRADED = "graded"
ALREADY_GRADED = "already graded"
FAILED = "failed"
NOT_GRADED = "not graded"

GRADES_CSV = "grades.csv"
CELLS_CSV = "grade_cells.csv"


@dataclass
class SubmissionResult:
    """The outcome for one <student>/<chapter>.

    status: "graded", "already graded" (kept as recorded, not regraded), "failed" (nbgrader could not grade
    it), "not graded" (nothing gradable: unknown chapter, no readable notebook).
    score / max_score: points from the gradebook (None when nothing is recorded).
    cells: {(notebook, grade_id): (score, max_score)}; problems: plain-words messages (missing, invalid,
    misnamed notebooks, feedback not written).
    """

    student: str
    chapter: str
    status: str
    score: float = None
    max_score: float = None
    message: str = ""
    problems: list = field(default_factory=list)
    cells: dict = field(default_factory=dict)
    feedback: list = field(default_factory=list)
    log: Path = None

    @property
    def key(self):
        return f"{self.student}/{self.chapter}" if self.chapter else self.student

    @property
    def ok(self):
        """True when the submission is graded (now or before) and every notebook of it could be graded."""
        return self.status in (GRADED, ALREADY_GRADED) and not self.problems

    def cell_score(self, grade_id, notebook=None):
        """Score of the grade cell `grade_id` (in `notebook` when ids repeat across notebooks)."""
        hits = [v for (nb, gid), v in self.cells.items() if gid == grade_id and notebook in (None, nb)]
        if len(hits) != 1:
            raise KeyError(f"{self.key}: {len(hits)} grade cells named {grade_id!r}")
        return hits[0][0]

    def line(self):
        score = f"{self.score:g}/{self.max_score:g}" if self.score is not None else "-"
        text = "; ".join([m for m in [self.message, *self.problems] if m])
        return f"{self.key:<32} {self.status:<15} {score:>9}  {text}".rstrip()


@dataclass
class GradeReport:
    """Everything `grade` did; `ok` is False when any submission failed or could not be fully graded."""

    submissions: list
    csv: Path = None
    cells_csv: Path = None

    @property
    def ok(self):
        return all(s.ok for s in self.submissions)

    def get(self, student, chapter):
        for s in self.submissions:
            if s.student == student and s.chapter == chapter:
                return s
        raise KeyError(f"no submission {student}/{chapter} in this report")

    def count(self, status):
        return sum(s.status == status for s in self.submissions)

    def summary(self):
        lines = [s.line() for s in self.submissions]
        counts = ", ".join(f"{self.count(st)} {st}" for st in (GRADED, ALREADY_GRADED, FAILED, NOT_GRADED))
        problems = sum(bool(s.problems) for s in self.submissions)
        lines.append(f"{len(self.submissions)} submission(s): {counts}; {problems} with problems")
        if self.csv:
            lines.append(f"grades: {self.csv} (per cell: {self.cells_csv})")
        return "\n".join(lines)


def grade_cells(path):
    """[(grade_id, points)] of the grade cells of a source notebook, in notebook order."""
    nb = nbformat.read(str(path), as_version=4)
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            cells.append((meta.get("grade_id"), float(meta.get("points", 0))))
    return cells


def _chapter_layout(course, chapter):
    """{notebook name: [(grade_id, points)]} of a chapter's source notebooks."""
    return {p.stem: grade_cells(p) for p in sorted((course.source / chapter).glob("*.ipynb"))}


def _course_path(course, step_directory, student, chapter):
    from nbgrader.coursedir import CourseDirectory

    directory = CourseDirectory(config=course.config)
    return Path(directory.format_path(getattr(directory, step_directory), student, chapter))


def read_scores(course, chapter, student, layout):
    """(score, max_score, {(notebook, grade_id): (score, max)}) recorded in the gradebook, or None."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        try:
            submission = gb.find_submission(chapter, student)
        except MissingEntry:
            return None
        recorded = {}
        for notebook in submission.notebooks:
            for g in notebook.grades:
                recorded[(notebook.name, g.name)] = (float(g.score), float(g.max_score))
        total, maximum = float(submission.score), float(submission.max_score)
    order = [(nb, gid) for nb, cells in layout.items() for gid, _ in cells]
    cells = {key: recorded[key] for key in order if key in recorded}
    cells.update({key: value for key, value in sorted(recorded.items()) if key not in cells})
    return total, maximum, cells


def _stage(found, staged):
    """Copy the gradable files of a submission to `staged` (replacing what was there)."""
    if staged.exists():
        shutil.rmtree(staged)
    skip = set(found.rejected)

    def ignore(directory, names):
        top = Path(directory) == found.folder
        return [n for n in names if n in (".ipynb_checkpoints", "__pycache__") or (top and n in skip)]

    shutil.copytree(found.folder, staged, ignore=ignore)


def _write_log(course, chapter, student, *runs):
    path = course.work / "logs" / chapter / f"{student}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"===== nbgrader {r.step}\n{r.log}{r.error}\n" for r in runs if r is not None))
    return path


def _prepare_chapter(course, chapter):
    """Record the chapter in the gradebook as source/ has it (generate_assignment into a scratch release).

    Returns (layout, problem): the chapter's {notebook: [(grade_id, points)]} and None, or a message saying why
    the chapter cannot be graded.
    """
    try:
        layout = _chapter_layout(course, chapter)
    except Exception as err:  # noqa: BLE001
        return None, f"the chapter's source notebooks cannot be read: {err}"
    # Paths inside the course directory are passed relative to it: nbgrader escapes its root in the regular
    # expressions it matches paths with, but not the rest of the path.
    run = run_nbgrader("generate_assignment", course, chapter, force=True, release_directory=f"{WORK_DIR}/release")
    if not run.success:
        path = course.work / "logs" / chapter / "generate_assignment.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(run.log + run.error)
        return layout, f"the chapter could not be recorded in the gradebook: {run.reason()} (log: {path})"
    return layout, None


def _grade_one(course, found, expected, layout, max_score, force):
    result = SubmissionResult(found.student, found.chapter, NOT_GRADED, max_score=max_score)
    autograded = _course_path(course, "autograded_directory", found.student, found.chapter)
    was_graded = autograded.exists()
    if was_graded and not force:
        recorded = read_scores(course, found.chapter, found.student, layout)
        result.status = ALREADY_GRADED
        if recorded:
            result.score, result.max_score, result.cells = recorded
        result.message = (
            f"already graded ({autograded} exists): the recorded grade is kept and this folder was not graded "
            f"again; use --force (force=True) to regrade and replace it"
        )
        result.feedback = sorted(_course_path(course, "feedback_directory", found.student, found.chapter).glob("*.html"))
        return result

    validate(found, expected)
    result.problems = list(found.problems)
    if found.fatal:
        result.message = found.fatal
        return result

    _stage(found, course.work / "submitted" / found.student / found.chapter)
    run = run_nbgrader(
        "autograde", course, found.chapter, student=found.student, force=force,
        submitted_directory=f"{WORK_DIR}/submitted",
    )
    result.log = _write_log(course, found.chapter, found.student, run)
    if not run.success:
        result.status = FAILED
        result.message = f"autograde failed: {run.reason()} (log: {result.log})"
        return result
    recorded = read_scores(course, found.chapter, found.student, layout)
    if recorded is None:
        result.status = FAILED
        result.message = f"autograde recorded no grade (log: {result.log})"
        return result
    result.status = GRADED
    result.score, result.max_score, result.cells = recorded
    if was_graded:
        result.message = "regraded (--force): the earlier autograde was replaced"

    feedback = run_nbgrader("generate_feedback", course, found.chapter, student=found.student, force=True)
    result.log = _write_log(course, found.chapter, found.student, run, feedback)
    if feedback.success:
        result.feedback = sorted(_course_path(course, "feedback_directory", found.student, found.chapter).glob("*.html"))
    else:
        result.problems.append(f"feedback not written: {feedback.reason()} (log: {result.log})")
    return result


def _write_csvs(report, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report.csv, report.cells_csv = out / GRADES_CSV, out / CELLS_CSV

    def number(x):
        return "" if x is None else f"{x:g}"

    with open(report.csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "chapter", "status", "score", "max_score", "percent", "message"])
        for s in report.submissions:
            percent = f"{100 * s.score / s.max_score:.1f}" if s.score is not None and s.max_score else ""
            message = "; ".join(m for m in [s.message, *s.problems] if m)
            writer.writerow([s.student, s.chapter, s.status, number(s.score), number(s.max_score), percent, message])
    with open(report.cells_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "chapter", "notebook", "grade_id", "score", "max_score"])
        for s in report.submissions:
            for (notebook, grade_id), (score, maximum) in s.cells.items():
                writer.writerow([s.student, s.chapter, notebook, grade_id, number(score), number(maximum)])


def grade(folder, chapters=None, course_dir=COURSE_DIR, out=None, force=False):
    """Autograde every submission in `folder`; write feedback and the grades CSVs; print a summary.

    Args:
        folder: nbgrader's submitted/ folder (<student>/<chapter>/*.ipynb), or a folder that contains it.
        chapters: only these chapters (names of folders of the course's source directory); None for all.
        course_dir: nbgrader's course directory (holds nbgrader_config.py and the gradebook).
        out: folder for grades.csv and grade_cells.csv (default: course_dir).
        force: regrade submissions that already have autograded results, replacing the recorded autograde.
            Without it they are skipped and reported as "already graded".
    Returns:
        GradeReport; report.ok is False when any submission failed or was not fully gradable.
    Raises:
        FileNotFoundError when `folder` does not exist; ValueError (CourseError) for a folder with no
        submission, an unknown chapter in `chapters`, or a course directory without nbgrader_config.py.
    """
    root = submissions_root(folder)
    with notebook_environment():  # nbgrader's gradebook needs this interpreter's bin/ on PATH
        course = load_course(course_dir)
        known = course.chapters()
        if chapters:
            unknown = [c for c in chapters if c not in known]
            if unknown:
                raise CourseError(f"unknown chapter(s) {', '.join(unknown)}; the chapters are: {', '.join(known) or 'none'}")
        found = discover(root, known, chapters)
        print(f"grade: {len(found)} submission(s) in {root} (course: {course.root})")

        results = []
        prepared = {}
        for f in found:
            if f.fatal:  # unknown chapter, stray notebooks: reported without touching nbgrader
                results.append(SubmissionResult(f.student, f.chapter, NOT_GRADED, message=f.fatal))
                print(results[-1].line())
                continue
            if f.chapter not in prepared:
                prepared[f.chapter] = _prepare_chapter(course, f.chapter)
            layout, problem = prepared[f.chapter]
            max_score = sum(points for cells in layout.values() for _, points in cells) if layout else None
            if problem:
                results.append(SubmissionResult(f.student, f.chapter, FAILED, max_score=max_score, message=problem))
            else:
                expected = [f"{name}.ipynb" for name in layout]
                try:
                    results.append(_grade_one(course, f, expected, layout, max_score, force))
                except Exception as err:  # noqa: BLE001 -- one submission must never stop the others
                    results.append(SubmissionResult(
                        f.student, f.chapter, FAILED, max_score=max_score, message=f"{type(err).__name__}: {err}"
                    ))
            print(results[-1].line())

        report = GradeReport(results)
        _write_csvs(report, out if out is not None else course.root)
    counts = ", ".join(f"{report.count(st)} {st}" for st in (GRADED, ALREADY_GRADED, FAILED, NOT_GRADED))
    print(f"grade: {counts}; {sum(bool(s.problems) for s in results)} with problems")
    print(f"grade: wrote {report.csv} and {report.cells_csv}; feedback in {course.root / 'feedback'}")
    return report
