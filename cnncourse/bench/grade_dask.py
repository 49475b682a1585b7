"""`cnncourse bench grade-dask` and `cnncourse bench grade-chapters`: what grading on Dask costs, and what a class costs.

grade-dask: the same class of Chapter 1 submissions (even students the solution, odd ones the untouched release)
graded by the local pool with 2 worker processes and by Dask with 2 workers (a LocalCluster of 2 processes with one
thread each, on 127.0.0.1), on this machine; prints both times, the overhead of Dask and whether every score agrees.

grade-chapters: for every chapter of source/, `repeats` solution submissions graded one after another on one Dask
worker; prints seconds per submission, and from them, on paper, the hours to grade 1,000 students times every
chapter on N machines of 2 workers. Kernels run in grade mode, as `cnncourse grade` runs them.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

from cnncourse.bench.grade import CHAPTER, _class, _course
from cnncourse.grading.course import REPO, notebook_environment

STUDENTS = 1000


def _cluster(workers):
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address="127.0.0.1:0")


def _timed_grade(folder, course, **kwargs):
    from cnncourse.grading.grade import grade

    start = time.perf_counter()
    report = grade(folder, course_dir=course.root, out=folder.parent / "out", **kwargs)
    return time.perf_counter() - start, report


def run(repeats=40):
    """Grade `repeats` Chapter 1 submissions (default 40) on the local pool and on Dask, 2 workers each.

    Returns dict with "submissions", "local_seconds", "dask_seconds", "overhead" (dask / local - 1) and
    "scores_agree" (every submission's status and cells equal).
    """
    n = max(1, int(repeats))
    with tempfile.TemporaryDirectory(prefix="cnncourse-bench-dask-") as tmp, notebook_environment("grade"):
        tmp = Path(tmp)
        courses = {way: _course(tmp / way) for way in ("local", "dask")}
        for way, course in courses.items():
            _class(tmp / way / "incoming", course, n)
        local_seconds, local = _timed_grade(tmp / "local" / "incoming", courses["local"], workers=2)
        with _cluster(2) as cluster:
            dask_seconds, remote = _timed_grade(tmp / "dask" / "incoming", courses["dask"],
                                                scheduler=cluster.scheduler_address)
    agree = [(s.key, s.status, s.cells) for s in local.submissions] == [(s.key, s.status, s.cells) for s in remote.submissions]
    out = {"submissions": n, "local_seconds": local_seconds, "dask_seconds": dask_seconds,
           "overhead": dask_seconds / local_seconds - 1, "scores_agree": agree, "graded": remote.count("graded")}
    print(f"{n} submissions of {CHAPTER} on {os.cpu_count()} core(s), 2 workers each:")
    print(f"  local pool:                       {local_seconds:8.1f} s  ({local_seconds / n:.1f} s per submission)")
    print(f"  Dask (LocalCluster, 127.0.0.1):   {dask_seconds:8.1f} s  ({dask_seconds / n:.1f} s per submission)")
    print(f"  overhead of Dask:                 {100 * out['overhead']:+8.1f} %")
    print(f"  every status and score agrees: {agree} ({out['graded']} graded on Dask)")
    return out


def run_chapters(repeats=2):
    """Per chapter of source/, seconds per solution submission on one Dask worker; and the paper estimate.

    Returns {"per_submission": {chapter: seconds}, "hours": {machines: hours for 1,000 students x every chapter}}.
    """
    from cnncourse.grading.course import load_course

    n = max(1, int(repeats))
    chapters = load_course(REPO / "autograder").chapters()
    seconds = {}
    with tempfile.TemporaryDirectory(prefix="cnncourse-bench-chapters-") as tmp, notebook_environment("grade"), \
            _cluster(1) as cluster:
        for chapter in chapters:
            root = Path(tmp) / chapter
            course = _course(root, chapter)
            for i in range(n):  # solutions only: the release fails fast and would flatter the figure
                shutil.copytree(course.source / chapter, root / "incoming" / f"student{i:02d}" / chapter,
                                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            took, report = _timed_grade(root / "incoming", course, scheduler=cluster.scheduler_address)
            seconds[chapter] = took / n
            print(f"{chapter:<22} {seconds[chapter]:7.1f} s per submission on one worker "
                  f"({report.count('graded')}/{n} graded)", flush=True)
    total = sum(seconds.values())
    hours = {machines: STUDENTS * total / (2 * machines) / 3600 for machines in (1, 10, 50, 100)}
    print(f"every chapter once: {total:.0f} s of one worker per student; {STUDENTS} students on N machines of "
          f"2 workers: " + ", ".join(f"N={m}: {h:.1f} h" for m, h in hours.items()))
    return {"per_submission": seconds, "hours": hours}
