"""One submission graded on another machine: the task a Dask worker runs, as plain data in and plain data out.

The coordinator (`cnncourse grade --scheduler ...`, dask_pool.py) turns a planned Job into a task with `make_task`:
the submission's staged notebooks, the chapter's source files with their checksum, the coordinator's fingerprint
(handshake.py) and the grading settings. `grade_task(task)` runs on the worker and shares no file with the
coordinator. It checks the handshake, then builds a private scratch course in a temporary folder (the chapter's
source and nbgrader's settings from the worker's autograder/nbgrader_config.py) and grades there, in a process of
its own with the submission's time limit, exactly as the local pool's worker does: `python -m
cnncourse.grading.remote SPEC.json` records the chapter (generate_assignment), runs worker.grade_submission (nbgrader
autograde with sandboxed kernels, then feedback) and exports what the scratch gradebook recorded. The task returns
the scores per grade cell, the autograded notebooks, the feedback HTML and the log; the scratch folder is removed.

The coordinator alone writes the course: `accept` puts a task's outcome where a local worker would have left it
(autograded/ and feedback/ folders, the gradebook, the job's result file), and grade.py finishes it as usual.
"""

import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from cnncourse.grading.course import REPO, WORK_DIR, load_course, notebook_environment, run_nbgrader, write_course_config
from cnncourse.grading.gradebook_rows import export_submission, import_submission
from cnncourse.grading.handshake import files_checksum, fingerprint, mismatch
from cnncourse.grading.pool import Job, kill_worker, start_worker
from cnncourse.grading.sandbox import HIDDEN_REPO_FOLDERS

RECORD_SECONDS = 120  # allowance on the worker for recording the chapter in its scratch gradebook


def make_task(job, source, checksum, expected):
    """The task of one planned Job (grade.py): everything a worker needs, as data (bytes, str, numbers).

    Args:
        job: a pool.Job whose submission is staged in <course>/<job.spec["submitted"]>/<student>/<chapter>/.
        source: {relative path: bytes} of the chapter's source folder; checksum: handshake.files_checksum of it.
        expected: the coordinator's handshake.fingerprint().
    """
    spec = job.spec
    staged = Path(spec["course"]) / spec["submitted"] / spec["student"] / spec["chapter"]
    return {
        "expected": expected, "chapter": spec["chapter"], "student": spec["student"],
        "source": source, "source_checksum": checksum,
        "submission": {p.name: p.read_bytes() for p in sorted(staged.glob("*.ipynb"))},
        "settings": {key: spec.get(key) for key in ("limits", "isolate", "execute_timeout", "references")},
        "deadline": job.deadline,
    }


def _failure(host, message="", log=""):
    return {"ok": False, "error": message, "refused": "", "log": log, "flagged": [], "feedback": False,
            "feedback_error": "", "grades": None, "autograded": {}, "feedback_html": {}, "returncode": None,
            "timed_out": False, "reported": False, "host": host}


def grade_task(task, cancelled=None):
    """Grade one submission on this machine (a Dask worker); returns the outcome as a dict of plain data.

    cancelled: a function that returns True once nobody wants the result any more (the coordinator was stopped):
    the grading process is then killed.

    The outcome: worker.py's result ("ok", "error", "log", "flagged", "feedback", "feedback_error") and "refused"
    (a message when the handshake failed: nothing was graded), "grades" (gradebook_rows.export_submission),
    "autograded" and "feedback_html" ({file name: text}), "returncode" (of the grading process; None if it never
    ended), "timed_out" (killed at the time limit), "reported" (the grading process wrote its result), "host",
    "seconds" (the task's own time on the worker).
    Never raises for a failure of the submission.
    """
    host, start = socket.gethostname(), time.monotonic()
    refused = mismatch(task["expected"], fingerprint(), f"the grading worker on {host}")
    if not refused and files_checksum(task["source"]) != task["source_checksum"]:
        refused = (f"the grading worker on {host} refused to grade: the chapter source it received has checksum "
                   f"{files_checksum(task['source'])[:12]}, not the coordinator's {task['source_checksum'][:12]}")
    if refused:
        return {**_failure(host), "refused": refused}
    chapter, student = task["chapter"], task["student"]
    with tempfile.TemporaryDirectory(prefix="cnng-dask-") as tmp:
        root = Path(tmp)
        for rel, data in task["source"].items():
            _write(root / "source" / chapter / rel, data)
        course_dir = root / "course"
        write_course_config(course_dir, root / "source", root / "release")
        for name, data in task["submission"].items():
            _write(course_dir / WORK_DIR / "submitted" / student / chapter / name, data)
        log = course_dir / WORK_DIR / "logs" / f"{student}.log"
        log.parent.mkdir(parents=True)
        spec = {**task["settings"], "course": str(course_dir), "chapter": chapter, "student": student,
                "submitted": f"{WORK_DIR}/submitted", "force": False, "template": str(_template(task)),
                "hide": [str(REPO / name) for name in HIDDEN_REPO_FOLDERS] + [str(root)],
                "result": str(log.with_suffix(".result.json"))}
        job = Job(None, None, "", spec, task["deadline"] + RECORD_SECONDS, log)
        returncode, timed_out = _run(job, cancelled or (lambda: False))
        try:
            outcome = {**json.loads(Path(spec["result"]).read_text()), "reported": True}
        except (OSError, ValueError):
            outcome = _failure(host)
        outcome.update(returncode=returncode, timed_out=timed_out, host=host, refused="",
                       seconds=time.monotonic() - start,
                       log=log.read_text(errors="replace") + "\n===== nbgrader\n" + outcome.get("log", ""))
    return outcome


def _template(task):
    """Where this machine keeps the chapter's recorded gradebook for the task's chapter source and fingerprint.

    Creating a gradebook costs seconds (nbgrader runs alembic's migrations in a subprocess); the first task of a
    chapter on a machine records it there, and later tasks start from a copy. The folder lies in the temporary
    directory (hidden from every student's kernel), private to this user.
    """
    key = hashlib.sha256(json.dumps([task["source_checksum"], task["expected"]], sort_keys=True).encode()).hexdigest()
    cache = Path(tempfile.gettempdir()) / f"cnncourse-gradebooks-{os.getuid()}"
    cache.mkdir(mode=0o700, exist_ok=True)
    return cache / key[:32]


def _record(course, chapter, template):
    """Record the chapter in the scratch course's gradebook: a copy of `template`'s, or generate_assignment.

    After a generate_assignment, the new gradebook becomes the template (written aside, then renamed: tasks on this
    machine may race, and the first one wins). Returns the NbgraderRun, or None when the template was copied.
    """
    db = Path(course.root) / "gradebook.db"
    if (template / "gradebook.db").is_file():
        shutil.copyfile(template / "gradebook.db", db)
        return None
    run = run_nbgrader("generate_assignment", course, chapter, force=True, release_directory=f"{WORK_DIR}/release")
    if run.success and db.is_file():
        part = Path(tempfile.mkdtemp(dir=template.parent))
        shutil.copyfile(db, part / "gradebook.db")
        try:
            part.rename(template)
        except OSError:  # another task recorded it first
            shutil.rmtree(part, ignore_errors=True)
    return run


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _run(job, cancelled):
    """Run the job's grading process to its end, its deadline or until cancelled() says to stop.

    Returns (returncode or None, timed_out).
    """
    try:
        start_worker(job, module="cnncourse.grading.remote")
    except OSError:
        return None, False
    while job.process.poll() is None:
        timed_out = time.monotonic() - job.started > job.deadline
        if timed_out or cancelled():
            kill_worker(job)
            return None, timed_out
        time.sleep(0.2)
    return job.process.returncode, False


def accept(course, job, outcome):
    """On the coordinator: put a task's outcome where the local pool's worker would have left it.

    Writes the job's log, and for a graded submission its autograded notebooks and feedback HTML (replacing earlier
    ones) and its scores into the course's gradebook; then the job's result file (worker.py's format) unless the
    grading process died or overran. Returns (returncode, timed_out) for grade._finish.
    """
    if outcome.get("seconds") is not None:  # the report's time is the task's own, not its time in the queue
        job.started = time.monotonic() - outcome["seconds"]
    job.log.parent.mkdir(parents=True, exist_ok=True)
    job.log.write_text(f"===== graded on {outcome['host']} (Dask worker)\n{outcome['log']}")
    result = {key: outcome[key] for key in ("ok", "error", "flagged", "feedback", "feedback_error")}
    result["log"] = ""  # already in the job's log
    if outcome["refused"]:
        result["error"] = outcome["refused"]
    elif not outcome["reported"]:  # the grading process died, overran or could not start
        return outcome["returncode"], outcome["timed_out"]
    elif outcome["ok"]:
        student, chapter = job.spec["student"], job.spec["chapter"]
        for step, files in (("autograded_directory", outcome["autograded"]), ("feedback_directory", outcome["feedback_html"])):
            folder = course.path(step, student, chapter)
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            for name, text in files.items():
                (folder / Path(name).name).write_text(text)
        with course.gradebook() as gb:
            import_submission(gb, chapter, student, outcome["grades"])
    Path(job.spec["result"]).write_text(json.dumps(result))
    return 0, False


def main(argv=None):
    """`python -m cnncourse.grading.remote SPEC.json`: record the chapter, grade, export; write the result file."""
    from cnncourse.grading.worker import grade_submission

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m cnncourse.grading.remote SPEC.json")
    job = json.loads(Path(argv[0]).read_text())
    start = time.monotonic()
    with notebook_environment():
        course = load_course(job["course"])
        run = _record(course, job["chapter"], Path(job["template"]))
        print(f"remote: started and recorded the chapter ({'generate_assignment' if run else 'copied from an earlier task'}) "
              f"in {time.monotonic() - start:.1f} s", flush=True)
        if run is None or run.success:
            result = grade_submission(job)
            print(f"remote: autograde and feedback done at {time.monotonic() - start:.1f} s", flush=True)
        else:
            result = {**_failure(""), "error": f"the chapter could not be recorded on the worker: {run.reason()}",
                      "log": run.log + run.error}
        result.update(grades=None, autograded={}, feedback_html={})
        if result["ok"]:
            with course.gradebook() as gb:
                result["grades"] = export_submission(gb, job["chapter"], job["student"])
            for key, step, pattern in (("autograded", "autograded_directory", "*.ipynb"),
                                       ("feedback_html", "feedback_directory", "*.html")):
                folder = course.path(step, job["student"], job["chapter"])
                result[key] = {p.name: p.read_text() for p in sorted(folder.glob(pattern))}
    tmp = Path(job["result"] + ".part")
    tmp.write_text(json.dumps(result))
    tmp.replace(job["result"])


if __name__ == "__main__":
    main()
