"""Grade ONE submission in a process of its own: `python -m cnncourse.grading.worker JOB.json`.

`cnncourse grade` starts one such process per submission, as many at a time as there are cores (grade.py). A
worker autogrades the staged submission with nbgrader (its kernels started through the sandbox, sandbox.py),
writes the feedback, and writes what happened to the job's result file as JSON. Whatever the student's code does,
the worker only reports it: the parent reads the result file, or, when there is none (the worker was killed at
the time limit, or died), reports the submission as failed.

The grading process starts each worker with PR_SET_PDEATHSIG, so a worker never outlives its run.
The gradebook (SQLite) is shared by the workers: each opens it with a busy timeout, so the short writes of
nbgrader's preprocessors wait for one another instead of failing. Each worker has its own Jupyter runtime folder,
kernelspec and scratch home, in a temporary folder removed at the end.

JOB.json: {"course": course directory, "chapter", "student", "submitted": staging folder (relative to the course),
"force": bool, "limits": sandbox.Limits as a dict, "isolate": bool or null, "references": [dotted names],
"hide": [folders the kernel must not see], "execute_timeout": seconds per cell or null, "result": path}.
Result: {"ok": bool, "error": str, "log": nbgrader's log, "flagged": [[notebook, grade_id, message]] (the judge's
lowered cells, the tripwire's calls of a reference, and the code scan's findings, code_scan.py),
"feedback": bool, "feedback_error": str}.
"""

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from cnncourse.grading.code_scan import flag_rows, scan_notebook
from cnncourse.grading.course import load_course, restore, run_nbgrader, shared_db_url
from cnncourse.grading.feedback import prune_feedback_folder
from cnncourse.grading.judge import judge_submission
from cnncourse.grading.sandbox import write_kernelspec
from cnncourse.grading.tripwire import flagged_functions

@contextlib.contextmanager
def sandboxed_kernels(course, keep, hide, limits=None, references=(), isolate=None):
    """Within this block, nbgrader steps on `course` start their kernels in the sandbox (sandbox.py).

    Args:
        course: the Course whose config is changed for the block (ipc transport, a socket prefix of its own).
        keep: folders the kernel needs although they lie in a hidden one (the notebooks' autograded folder).
        hide: folders the kernel must not see; the course directory is always hidden.
        limits: sandbox.Limits as a dict; references: dotted names of the reference functions to guard.
        isolate: use namespaces (None: when the machine allows it).
    Sets JUPYTER_PATH and JUPYTER_RUNTIME_DIR of this process for the block and restores them afterwards.
    Yields the folder where the kernels record their checks' calls (removed after the block).
    """
    scratch = Path(tempfile.mkdtemp(prefix="cnng-"))  # short: Unix socket paths are limited to 107 bytes
    saved = {key: os.environ.get(key) for key in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
    config = course.config.KernelManager
    saved_config = {key: config.get(key) for key in ("transport", "ip", "connection_file")}
    try:
        runtime, home, kernels = scratch / "rt", scratch / "home", scratch / "jp"
        for folder in (runtime, home, kernels):
            folder.mkdir()
        evidence = home / ".cnncourse-evidence"  # the kernels' records of their checks, for the judge (judge.py)
        settings = {"limits": dict(limits or {}), "home": str(home), "keep": [str(runtime), str(home), *map(str, keep)],
                    "hide": [str(course.root), tempfile.gettempdir(), *map(str, hide)], "references": list(references),
                    "evidence": str(evidence)}
        write_kernelspec(kernels, settings, isolate=isolate)
        os.environ["JUPYTER_PATH"], os.environ["JUPYTER_RUNTIME_DIR"] = str(kernels), str(runtime)
        # Unix sockets between grader and kernel: the kernel's network namespace has no working loopback. nbgrader
        # runs one kernel at a time, so one fixed socket prefix and connection file in this runtime folder serve
        # (left to itself, jupyter_client would put the connection file in /tmp, which the kernel cannot see).
        config.transport, config.ip = "ipc", str(runtime / "kernel")
        config.connection_file = str(runtime / "kernel.json")
        yield evidence
    finally:
        restore(os.environ, saved)
        restore(config, saved_config)
        shutil.rmtree(scratch, ignore_errors=True)


def _course_notebook(course, chapter, name):
    """The course's source notebook `name` of `chapter` (the version the code scan compares with), or None."""
    try:
        return nbformat.read(str(course.source / chapter / name), as_version=4)
    except Exception:  # noqa: BLE001 -- a notebook the chapter does not have: the scan then reads every student cell
        return None


def grade_submission(job):
    """Autograde and give feedback for the job's submission; return the result dict (see the module docstring)."""
    course = load_course(job["course"])
    course.config.CourseDirectory.db_url = shared_db_url(course.db_url)
    if job.get("execute_timeout"):
        course.config.Execute.timeout = int(job["execute_timeout"])
    autograded = course.path("autograded_directory", job["student"], job["chapter"])
    # the autograded folder is where nbgrader runs the notebook; it exists by the time a kernel starts
    with sandboxed_kernels(course, keep=[autograded], hide=job.get("hide", []), limits=job.get("limits"),
                           references=job.get("references", []), isolate=job.get("isolate")) as evidence:
        run = run_nbgrader("autograde", course, job["chapter"], student=job["student"], force=job.get("force", False),
                           submitted_directory=job["submitted"])
        result = {"ok": run.success, "error": "" if run.success else run.reason(), "log": run.log + run.error,
                  "flagged": [], "feedback": False, "feedback_error": ""}
        if not run.success:
            return result
        flagged, summary = judge_submission(course, job["chapter"], job["student"], autograded, evidence)
    result["flagged"] += flagged
    result["log"] += summary
    for path in sorted(autograded.glob("*.ipynb")):
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # noqa: BLE001 -- a notebook nbgrader wrote but we cannot read flags nothing
            continue
        result["flagged"] += [[path.stem, grade_id, message] for grade_id, message in flagged_functions(nb)]
        result["flagged"] += flag_rows(path.stem, scan_notebook(nb, _course_notebook(course, job["chapter"], path.name)))
    feedback = run_nbgrader("generate_feedback", course, job["chapter"], student=job["student"], force=True)
    result["feedback"] = feedback.success
    # only the feedback pages (and nbgrader's files) go back to the student, not files the student's code wrote
    removed = prune_feedback_folder(course.path("feedback_directory", job["student"], job["chapter"]),
                                    [path.stem for path in autograded.glob("*.ipynb")])
    result["feedback_error"] = "" if feedback.success else feedback.reason()
    result["log"] += "\n===== nbgrader generate_feedback\n" + feedback.log + feedback.error
    if removed:
        result["log"] += f"removed from the feedback folder (not feedback): {', '.join(removed)}\n"
    return result


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m cnncourse.grading.worker JOB.json")
    job = json.loads(Path(argv[0]).read_text())
    from cnncourse.grading.course import notebook_environment

    with notebook_environment():
        result = grade_submission(job)
    tmp = Path(job["result"] + ".part")
    tmp.write_text(json.dumps(result))
    tmp.replace(job["result"])  # the parent sees a whole result file or none


if __name__ == "__main__":
    main()
