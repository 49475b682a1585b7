"""`cnncourse grade <folder or zip>`: autograde a class, in parallel and sandboxed; feedback HTML and grades CSVs.

In this order:
1. intake (intake.py): the input, a folder or a zip in any of the usual layouts, is copied into nbgrader's
   <student>/<chapter>/<notebook>.ipynb; duplicates, unknown students (with a roster) and stray files are named;
2. validate (submissions.py): unknown chapter, unreadable / invalid notebooks, misnamed and missing notebooks are
   reported in plain words; a notebook that cannot be graded scores 0, like a missing one;
3. skip what is already graded (ledger.py): a recorded grade is never silently replaced (force=True regrades);
   a submission whose grading was interrupted is graded again;
4. stage the gradable notebooks into <course>/.grading/submitted/ (as nbformat 4, asking for the python3 kernel);
5. grade: one worker process per submission (worker.py), `workers` at a time (default: one per core), each with
   a time limit; the worker runs nbgrader autograde with sandboxed kernels (sandbox.py) and writes the feedback.
   A worker that fails, dies or overruns fails that submission only. With a Dask scheduler (or cluster file) each
   submission is a task on a Dask worker instead (dask_pool.py, remote.py); this process still writes everything.
Before the first submission of a chapter, the chapter is recorded in the gradebook as source/ has it now
(generate_assignment into <course>/.grading/release/; the repository's release/ is not touched).
Outputs: <out>/grades.csv and <out>/grade_cells.csv (report.py), with out = the course directory by default.
"""

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from cnncourse.grading.course import (REPO, COURSE_DIR, WORK_DIR, CourseError, load_course, notebook_environment,
                                      run_nbgrader)
from cnncourse.grading.intake import EXCHANGE_FILES, collect, read_roster
from cnncourse.grading.ledger import DONE, STARTED, Ledger, submission_checksum
from cnncourse.grading.notebooks import references
from cnncourse.grading.pool import Job, run_jobs
from cnncourse.grading.report import (ALREADY_GRADED, FAILED, GRADED, NOT_GRADED, GradeReport, SubmissionResult,
                                      write_csvs)
from cnncourse.grading.sandbox import HIDDEN_REPO_FOLDERS, Limits
from cnncourse.grading.submissions import discover, validate

NOTEBOOK_SECONDS = 900  # wall-clock limit per notebook of a submission (the whole submission: this x notebooks)
START_SECONDS = 60  # allowance per submission for the worker's own start and the feedback

__all__ = ["ALREADY_GRADED", "FAILED", "GRADED", "NOT_GRADED", "GradeReport", "SubmissionResult", "grade",
           "grade_cells", "read_scores"]


def grade_cells(path):
    """[(grade_id, points)] of the grade cells of a source notebook, in notebook order."""
    nb = nbformat.read(str(path), as_version=4)
    return [(cell.metadata.nbgrader.get("grade_id"), float(cell.metadata.nbgrader.get("points", 0)))
            for cell in nb.cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade")]


def read_scores(course, chapter, student, layout):
    """(score, max_score, {(notebook, grade_id): (score, max)}) recorded in the gradebook, or None."""
    from nbgrader.api import MissingEntry

    with course.gradebook() as gb:
        try:
            submission = gb.find_submission(chapter, student)
        except MissingEntry:
            return None
        recorded = {(nb.name, g.name): (float(g.score), float(g.max_score)) for nb in submission.notebooks
                    for g in nb.grades}
        total, maximum = float(submission.score), float(submission.max_score)
    order = [(nb, gid) for nb, cells in layout.items() for gid, _ in cells]
    cells = {key: recorded[key] for key in order if key in recorded}
    cells.update({key: value for key, value in sorted(recorded.items()) if key not in cells})
    return total, maximum, cells


@dataclass
class Chapter:
    """A chapter as the grader needs it: {notebook: [(grade_id, points)]}, its reference functions, its total.

    `problem` says why it cannot be graded; `recorded` is True once the gradebook holds it as source/ has it now.
    """

    name: str
    layout: dict
    references: list
    problem: str = ""
    recorded: bool = False

    @property
    def max_score(self):
        return sum(points for cells in self.layout.values() for _, points in cells) if self.layout else None

    @property
    def notebooks(self):
        return [f"{name}.ipynb" for name in self.layout]


def _read_chapter(course, name):
    """The chapter's grade cells and reference functions, read from its source notebooks."""
    paths = sorted((course.source / name).glob("*.ipynb"))
    try:
        layout = {p.stem: grade_cells(p) for p in paths}
        refs = sorted({dotted for p in paths for _, _, dotted in references(nbformat.read(str(p), as_version=4))})
    except Exception as err:  # noqa: BLE001
        return Chapter(name, {}, [], f"the chapter's source notebooks cannot be read: {err}")
    return Chapter(name, layout, refs)


def _record_chapter(course, chapter):
    """Record the chapter in the gradebook as source/ has it (generate_assignment into a scratch release), once.

    Done only before a submission of the chapter is graded: a run that only reports earlier grades leaves the
    gradebook's chapter as it was. Sets chapter.problem when nbgrader fails.
    """
    if chapter.recorded or chapter.problem:
        return
    # Paths inside the course directory are passed relative to it: nbgrader escapes its root in the regular
    # expressions it matches paths with, but not the rest of the path.
    run = run_nbgrader("generate_assignment", course, chapter.name, force=True, release_directory=f"{WORK_DIR}/release")
    if run.success:
        chapter.recorded = True
        return
    path = course.work / "logs" / chapter.name / "generate_assignment.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(run.log + run.error)
    chapter.problem = f"the chapter could not be recorded in the gradebook: {run.reason()} (log: {path})"


def _stage(found, staged):
    """Write the gradable notebooks of a submission to `staged` as nbformat 4 asking for the python3 kernel.

    An older nbformat is upgraded (nbgrader would read it anyway, but its cell ids come from here), and a notebook
    that asks for another kernel (ir, python2, a renamed one) is run by the grading kernel all the same. The
    exchange's timestamp.txt and submission_secret.txt come along: nbgrader records lateness from the first and
    releases feedback under the second.
    """
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    for name in found.valid:
        nb = nbformat.read(str(found.folder / name), as_version=4)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata.setdefault("language_info", {"name": "python"})
        nbformat.write(nb, str(staged / name))
    for name in EXCHANGE_FILES:  # the submission time (late or not) and the secret its feedback is released under
        if (found.folder / name).is_file():
            shutil.copyfile(found.folder / name, staged / name)


def _plan(course, found, chapter, ledger, force, settings):
    """Decide what to do with one submission: a finished SubmissionResult, or a Job for a worker."""
    result = SubmissionResult(found.student, found.chapter, NOT_GRADED, max_score=chapter.max_score)
    if not chapter.layout:
        result.status, result.message = FAILED, chapter.problem
        return result
    validate(found, chapter.notebooks)
    result.problems = list(found.problems)
    if found.fatal:
        result.message = found.fatal
        return result
    checksum = submission_checksum(found.folder, found.valid)
    entry = ledger.get(found.student, found.chapter) or {}
    autograded = course.path("autograded_directory", found.student, found.chapter)
    regrade = force
    if not force and entry.get("state") == STARTED:
        regrade, result.message = True, "resumed: an earlier run stopped before this submission was finished; graded again"
    elif not force and entry.get("status") == FAILED:
        regrade, result.message = True, f"failed when graded before ({entry.get('message', '')}); graded again"
    elif not force and (autograded.exists() or entry.get("state") == DONE):
        return _already(course, result, chapter, entry, checksum, autograded)
    elif force and autograded.exists():
        result.message = "regraded (--force): the earlier autograde was replaced"

    _record_chapter(course, chapter)
    if chapter.problem:
        result.status, result.message = FAILED, chapter.problem
        return result
    _stage(found, course.work / "submitted" / found.student / found.chapter)
    log = course.work / "logs" / found.chapter / f"{found.student}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    spec = {**settings, "course": str(course.root), "chapter": found.chapter, "student": found.student,
            "submitted": f"{WORK_DIR}/submitted", "force": bool(regrade), "references": chapter.references,
            "result": str(log.with_suffix(".result.json"))}
    deadline = settings["notebook_seconds"] * max(1, len(found.valid)) + START_SECONDS
    return Job(result, chapter, checksum, spec, deadline, log, notebooks=len(found.valid),
               was_graded=autograded.exists() or entry.get("status") == GRADED)


def _already(course, result, chapter, entry, checksum, autograded):
    """The result of a submission graded before: its recorded grade, untouched."""
    recorded = read_scores(course, result.chapter, result.student, chapter.layout)
    result.status = ALREADY_GRADED
    if recorded:
        result.score, result.max_score, result.cells = recorded
    result.flagged = [tuple(f) for f in entry.get("flagged", [])]
    result.message = (f"already graded ({autograded} exists): the recorded grade is kept and this folder was not "
                      f"graded again; use --force (force=True) to regrade and replace it")
    if entry.get("checksum") not in (None, checksum):
        result.message += "; NOTE: the submission has changed since it was graded"
    result.feedback = sorted(course.path("feedback_directory", result.student, result.chapter).glob("*.html"))
    return result


def _finish(course, job, returncode, timed_out, ledger):
    """Turn a worker's result file into the SubmissionResult; record the outcome in the ledger."""
    result = job.result
    result.log, result.seconds = job.log, time.monotonic() - job.started
    try:
        outcome = json.loads(Path(job.spec["result"]).read_text())
    except (OSError, ValueError):
        outcome = None
    if outcome is not None:
        with open(job.log, "a") as fh:
            fh.write("\n===== nbgrader autograde\n" + outcome.get("log", ""))
    if timed_out:
        result.status = FAILED
        result.message = (f"stopped after {job.deadline:.0f} s, the limit for {job.notebooks} notebook(s): "
                          f"the notebook runs too long (an endless loop?) (log: {job.log})")
    elif outcome is None and returncode is None:
        result.status = FAILED
        result.message = f"the grading worker could not start (out of processes or memory?) (log: {job.log})"
    elif outcome is None:
        result.status = FAILED
        result.message = f"the grading worker died (exit status {returncode}) before it reported (log: {job.log})"
    elif not outcome["ok"]:
        result.status = FAILED
        result.message = f"autograde failed: {outcome['error']} (log: {job.log})"
    else:
        recorded = read_scores(course, result.chapter, result.student, job.chapter.layout)
        if recorded is None:
            result.status, result.message = FAILED, f"autograde recorded no grade (log: {job.log})"
        else:
            result.status = GRADED
            result.score, result.max_score, result.cells = recorded
            result.flagged = [tuple(f) for f in outcome["flagged"]]
            if outcome["feedback"]:
                result.feedback = sorted(course.path("feedback_directory", result.student, result.chapter).glob("*.html"))
            else:
                result.problems.append(f"feedback not written: {outcome['feedback_error']} (log: {job.log})")
    if result.status == FAILED and not job.was_graded:
        _forget_partial(course, result)
    ledger.finish(result.student, result.chapter, job.checksum, result.status, message=result.message,
                  flagged=result.flagged)
    return result


def _forget_partial(course, result):
    """Remove what a failed first autograde left in the gradebook (nbgrader records the submission before it runs)."""
    from nbgrader.api import MissingEntry

    try:
        with course.gradebook() as gb:
            gb.remove_submission(result.chapter, result.student)
    except MissingEntry:
        pass


def grade(folder, chapters=None, course_dir=COURSE_DIR, out=None, force=False, workers=None, roster=None,
          limits=None, notebook_seconds=NOTEBOOK_SECONDS, isolate=None, execute_timeout=None, scheduler=None,
          cluster=None):
    """Autograde every submission in `folder`; write feedback and the grades CSVs; print progress and a summary.

    Args:
        folder: a folder or a .zip of submissions in one of the layouts intake.py recognises (nbgrader's
            [submitted/]<student>/<chapter>/*.ipynb, one folder per student, Moodle's or Canvas's exports).
        chapters: only these chapters (names of folders of the course's source directory); None for all.
        course_dir: nbgrader's course directory (holds nbgrader_config.py and the gradebook).
        out: folder for grades.csv and grade_cells.csv (default: course_dir).
        force: regrade submissions that already have autograded results, replacing the recorded autograde.
            Without it they are skipped and reported as "already graded".
        workers: submissions graded at the same time (default: the number of cores).
        roster: path of a roster (CSV with an id column, or one id a line): students not on it are not graded.
        limits: sandbox.Limits of each notebook kernel (memory, CPU seconds, file size, processes, output).
        notebook_seconds: wall-clock limit per notebook; a submission gets this times its notebook count.
        isolate: run kernels in new namespaces (None: when the machine allows it, sandbox.isolation()).
        execute_timeout: seconds per cell (None: nbgrader_config.py's Execute.timeout).
        scheduler: address of a Dask scheduler ("tcp://host:8786"): each submission is graded as a task on its
            workers (dask_pool.py) instead of the local pool; `workers` is then ignored.
        cluster: path of a cluster file (dask_pool.read_cluster_file): start that Dask cluster and grade on it.
    Returns:
        GradeReport; report.ok is False when any submission failed, was not fully gradable or was flagged.
    Raises:
        FileNotFoundError when `folder` does not exist; ValueError (CourseError, IntakeError) for an input with
        no submission, an unreadable zip, an unknown chapter in `chapters`, a course without nbgrader_config.py,
        a Dask scheduler that cannot be reached or a worker that fails the handshake (dask_pool.SchedulerError).
    """
    with notebook_environment():  # nbgrader's gradebook needs this interpreter's bin/ on PATH
        course = load_course(course_dir)
        with Ledger(course.work).lock():  # one grading run per course directory at a time
            return _grade(course, folder, chapters, out, force, workers, roster, limits, notebook_seconds, isolate,
                          execute_timeout, (scheduler, cluster))


def _grade(course, folder, chapters, out, force, workers, roster, limits, notebook_seconds, isolate, execute_timeout,
           dask=(None, None)):
    """grade() once the course is loaded and locked."""
    known = course.chapters()
    if chapters:
        unknown = [c for c in chapters if c not in known]
        if unknown:
            raise CourseError(f"unknown chapter(s) {', '.join(unknown)}; the chapters are: {', '.join(known) or 'none'}")
    notebooks = {c: sorted(p.name for p in (course.source / c).glob("*.ipynb")) for c in known}
    intake = collect(folder, notebooks, course.work / "intake", read_roster(roster) if roster else None)
    results = [SubmissionResult(s, "", NOT_GRADED, message=m) for s, m in sorted(intake.unknown_students.items())]
    if not any(intake.folder.iterdir()) and not results and not intake.problems:
        raise CourseError(f"{folder} holds no submission: expected {folder}/<student>/<chapter>/<notebook>.ipynb "
                          f"(or one of the layouts of cnncourse/grading/intake.py)")
    found = discover(intake.folder, known, chapters) if any(intake.folder.iterdir()) else []
    workers = max(1, int(workers or os.cpu_count() or 1))
    print(f"grade: {len(found) + len(results)} submission(s) in {folder} (course: {course.root}); "
          + (f"Dask: {dask[0] or dask[1]}" if any(dask) else f"{workers} worker(s)"))
    settings = {"limits": asdict(limits or Limits()), "isolate": isolate, "execute_timeout": execute_timeout,
                "notebook_seconds": notebook_seconds,
                "hide": [str(REPO / name) for name in HIDDEN_REPO_FOLDERS]
                + [str(course.source), str(Path(folder).resolve())]}
    ledger, prepared, planned = Ledger(course.work), {}, []
    for f in found:
        if f.fatal:  # unknown chapter, stray notebooks: reported without touching nbgrader
            planned.append(SubmissionResult(f.student, f.chapter, NOT_GRADED, message=f.fatal))
            continue
        if f.chapter not in prepared:
            prepared[f.chapter] = _read_chapter(course, f.chapter)
        try:
            planned.append(_plan(course, f, prepared[f.chapter], ledger, force, settings))
        except Exception as err:  # noqa: BLE001 -- one submission must never stop the others
            planned.append(SubmissionResult(f.student, f.chapter, FAILED, message=f"{type(err).__name__}: {err}"))
    keys = set()
    for p in planned:
        result = p.result if isinstance(p, Job) else p
        result.problems += intake.problems.get(result.key, [])
        keys.add(result.key)
    for key, messages in sorted(intake.problems.items()):  # files that belong to no submission
        if key not in keys:
            student, _, chapter = key.partition("/")
            results += [SubmissionResult(student, chapter, NOT_GRADED, message=m) for m in messages]

    jobs = [p for p in planned if isinstance(p, Job)]
    total, count = len(planned), [0]
    for p in planned:
        if not isinstance(p, Job):
            count[0] += 1
            print(f"[{count[0]}/{total}] {p.line()}")

    def progress(result):
        count[0] += 1
        took = f"  ({result.seconds:.0f} s)" if result.seconds is not None else ""
        print(f"[{count[0]}/{total}] {result.line()}{took}", flush=True)

    def on_start(job):
        ledger.start(job.result.student, job.result.chapter, job.checksum)

    def on_end(job, returncode, timed_out):
        try:
            result = _finish(course, job, returncode, timed_out, ledger)
        except Exception as err:  # noqa: BLE001 -- one submission's bookkeeping must never stop the others
            result = job.result
            result.status, result.message = FAILED, f"{type(err).__name__} while recording the result: {err}"
        progress(result)
        return result

    if any(dask) and jobs:
        from cnncourse.grading.dask_pool import run_dask_jobs

        graded = iter(run_dask_jobs(jobs, course, on_start, on_end, scheduler=dask[0], cluster=dask[1]))
    else:
        graded = iter(run_jobs(jobs, workers, on_start, on_end))
    results += [next(graded) if isinstance(p, Job) else p for p in planned]
    report = GradeReport(results)
    write_csvs(report, out if out is not None else course.root)  # earlier runs' rows of other students are kept
    print(report.summary())
    print(f"grade: feedback in {course.root / 'feedback'}")
    return report
