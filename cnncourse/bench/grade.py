"""`cnncourse bench grade`: the same class of Chapter 1 submissions graded by plain sequential `nbgrader autograde`
and by `cnncourse grade` (parallel, sandboxed), on this machine; prints both times, their ratio and whether every
recorded score agrees.

Two scratch course directories are made from the repository's source/c1_convolution (the settings of
autograder/nbgrader_config.py); the class alternates the solution notebooks and the untouched release notebooks.
Both graders run their kernels in grade mode (CNNCOURSE_MODE=grade), as `cnncourse grade` does.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cnncourse.grading.course import REPO, load_course, notebook_environment, run_nbgrader, write_course_config

CHAPTER = "c1_convolution"


def _course(root, chapter=CHAPTER):
    """A scratch course in `root` holding `chapter` of the repository, recorded in its gradebook; returns the Course."""
    shutil.copytree(REPO / "source" / chapter, root / "source" / chapter,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    write_course_config(root / "course", root / "source", root / "release")
    course = load_course(root / "course")
    run = run_nbgrader("generate_assignment", course, chapter, force=True)
    if not run.success:
        raise RuntimeError(f"generate_assignment failed: {run.reason()}")
    return course


def _class(folder, course, n, chapter=CHAPTER):
    """n submissions in folder/<student>/<chapter>/: even students the solution, odd ones the release."""
    for i in range(n):
        origin = course.source if i % 2 == 0 else course.release
        shutil.copytree(origin / chapter, folder / f"student{i:02d}" / chapter,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def _scores(course):
    with course.gradebook() as gb:
        return {(s.student.id, s.name): float(s.score) for s in gb.assignment_submissions(CHAPTER)}


def run(repeats=40):
    """Grade `repeats` submissions (default 40) both ways; print and return the figures.

    Returns:
        dict with "submissions", "workers", "nbgrader_seconds", "cnncourse_seconds", "ratio" (nbgrader time over
        cnncourse time: above 1 when cnncourse is faster), "scores_agree" (bool).
    """
    from cnncourse.grading.grade import grade

    n = max(1, int(repeats))
    with tempfile.TemporaryDirectory(prefix="cnncourse-bench-grade-") as tmp, notebook_environment("grade"):
        tmp = Path(tmp)
        plain, ours = _course(tmp / "plain"), _course(tmp / "ours")
        _class(plain.root / "submitted", plain, n)
        _class(tmp / "incoming", ours, n)

        env = {**os.environ, "CNNCOURSE_MODE": "grade"}
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", CHAPTER], cwd=plain.root, env=env,
                              capture_output=True, text=True)
        nbgrader_seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:])

        start = time.perf_counter()
        report = grade(tmp / "incoming", course_dir=ours.root, out=tmp / "out")
        cnncourse_seconds = time.perf_counter() - start
        agree = _scores(plain) == _scores(ours) and len(_scores(ours)) == n

    out = {"submissions": n, "workers": os.cpu_count(), "nbgrader_seconds": nbgrader_seconds,
           "cnncourse_seconds": cnncourse_seconds, "ratio": nbgrader_seconds / cnncourse_seconds,
           "scores_agree": agree, "graded": report.count("graded")}
    print(f"{n} submissions of {CHAPTER} on {os.cpu_count()} core(s):")
    print(f"  nbgrader autograde, sequential:            {nbgrader_seconds:8.1f} s")
    print(f"  cnncourse grade, {os.cpu_count()} workers, sandboxed:   {cnncourse_seconds:8.1f} s")
    print(f"  ratio (nbgrader / cnncourse):              {out['ratio']:8.2f}x")
    print(f"  every recorded score agrees: {agree} ({out['graded']} graded by cnncourse grade)")
    return out
