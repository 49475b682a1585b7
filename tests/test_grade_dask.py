"""`cnncourse grade --scheduler`: grading on a real Dask cluster (a `dask scheduler` and two `dask worker` processes,
started here on 127.0.0.1 and always stopped), against the local pool on the same submissions.

The synthetic chapter of tests/roundtrip.py (ch1: part1 = double 2 pts + square 3 pts, part2 = cube 1 pt) is built
in scratch repositories; expected scores come from the local pool grading the same class, and from the chapter's
definition. Workers are killed on purpose (SIGKILL) and the coordinator is stopped (SIGTERM) while they grade.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cnncourse.grading.dask_pool import SchedulerError
from cnncourse.grading.grade import ALREADY_GRADED, FAILED, GRADED, grade
from roundtrip import SYNTHETIC_CHAPTER as CH, SYNTHETIC_POINTS as POINTS, build_synthetic_course, edit_cell, put_submission

distributed = pytest.importorskip("distributed")
FULL = sum(POINTS.values())
START_SECONDS = 90  # for a scheduler and its workers to come up on a busy 2-core machine


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, folder, env=None, log=None):
    """A `dask ...` process in a session of its own (so that its whole group can be killed), output into `log`.

    It runs in `folder`: `python -m` puts the working folder first on sys.path, and the repository's must not be.
    """
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT, cwd=folder,
                            stdin=subprocess.DEVNULL, start_new_session=True, env={**os.environ, **(env or {})})


def _stop(processes):
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)


class Cluster:
    """A `dask scheduler` and `workers` × `dask worker --nthreads 1` on 127.0.0.1; stop() kills them all."""

    def __init__(self, folder, workers=2, env=None):
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        folder.mkdir(parents=True, exist_ok=True)
        self.log = open(folder / "dask.log", "w")
        self.processes = [_start(["scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
                                  "--no-dashboard"], folder, log=self.log)]
        try:
            for i in range(workers):
                self.processes.append(_start(["worker", self.address, "--nthreads", "1", "--host", "127.0.0.1",
                                              "--no-dashboard", "--death-timeout", "60", "--name", f"w{i}",
                                              "--local-directory", str(folder / f"w{i}")], folder, env=env,
                                             log=self.log))
            self.client = distributed.Client(self.address, timeout=START_SECONDS)
            self.client.wait_for_workers(workers, timeout=START_SECONDS)
        except BaseException:
            self.stop()
            raise

    def stop(self):
        if getattr(self, "client", None) is not None:
            self.client.close()
        _stop(self.processes)
        self.log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"))
    yield c
    c.stop()


def _course(tmp_path_factory, name):
    root = tmp_path_factory.mktemp(name)
    source, release = build_synthetic_course(root)
    return root, {f"{n}.ipynb": nb for n, nb in source.items()}, {f"{n}.ipynb": nb for n, nb in release.items()}


def _gradebook_submissions(root):
    """[(student, score)] of every submission of ch1 in the gradebook of the course in `root`."""
    from cnncourse.grading.course import load_course, notebook_environment

    with notebook_environment(), load_course(root / "autograder").gradebook() as gb:
        return sorted((s.student.id, float(s.score)) for s in gb.assignment_submissions(CH))


def _grade_in_thread(incoming, root, address):
    box = {}

    def target():
        try:
            box["report"] = grade(incoming, course_dir=root / "autograder", out=root / "out", scheduler=address)
        except BaseException as err:  # noqa: BLE001 -- handed to the test
            box["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def _kill_a_busy_worker(client, thread):
    """SIGKILL the process of a worker that has been grading for a second; returns its pid (None: none seen)."""
    pids = client.run(os.getpid)
    while thread.is_alive():
        busy = [address for address, keys in client.processing().items()
                if any(str(k).startswith("cnncourse-grade-") for k in keys)]
        if busy:
            time.sleep(1.0)
            os.kill(pids[busy[0]], signal.SIGKILL)
            return pids[busy[0]]
        time.sleep(0.1)
    return None


def test_dask_gives_the_local_pools_grades_even_when_a_worker_is_killed_while_it_grades(cluster, tmp_path_factory):
    """Solutions, an untouched release, a typical mistake, a corrupt notebook and a kernel that dies, graded by the
    local pool and on Dask; on Dask one worker is killed (SIGKILL) in the middle of a task, and its task is graded
    again by another worker: nothing is lost, nothing is recorded twice."""
    results = {}
    for way in ("local", "dask"):
        root, src, rel = _course(tmp_path_factory, f"repo_{way}")
        incoming = root / "incoming"
        put_submission(incoming, "alice", src)
        put_submission(incoming, "bob", rel)
        put_submission(incoming, "carol", edit_cell(src, "square", "return x * x", "return x * 2"))
        put_submission(incoming, "dave", {**src, "part1.ipynb": '{\n "cells": [\n  {"cell_type": oops'})
        put_submission(incoming, "gus", edit_cell(src, "cube", "return x ** 3", "import os; os._exit(1)"))
        if way == "local":
            results[way] = (root, grade(incoming, course_dir=root / "autograder", out=root / "out", workers=2))
            continue
        thread, box = _grade_in_thread(incoming, root, cluster.address)
        victim = _kill_a_busy_worker(cluster.client, thread)
        thread.join(timeout=600)
        assert not thread.is_alive() and "error" not in box, box
        assert victim is not None, "no worker was seen grading"
        with pytest.raises(ProcessLookupError):
            os.kill(victim, 0)
        results[way] = (root, box["report"])

    (_, local), (root, remote) = results["local"], results["dask"]
    assert [s.key for s in remote.submissions] == [s.key for s in local.submissions]
    for mine, theirs in zip(remote.submissions, local.submissions):
        assert (mine.status, mine.score, mine.max_score, mine.cells, mine.problems) == \
               (theirs.status, theirs.score, theirs.max_score, theirs.cells, theirs.problems), mine.key
        assert [p.name for p in mine.feedback] == [p.name for p in theirs.feedback], mine.key
    alice, carol, gus = (remote.get(s, CH) for s in ("alice", "carol", "gus"))
    assert alice.score == FULL and remote.get("bob", CH).score == 0
    assert carol.cell_score("square_tests") == 0 and carol.score == FULL - POINTS["square_tests"]
    assert gus.status == FAILED and "Kernel died" in gus.message and gus.log.is_file()
    assert "graded on" in alice.log.read_text()
    # the coordinator wrote the course: autograded notebooks, feedback, the gradebook (each submission once), CSVs
    autograder = root / "autograder"
    assert sorted(p.name for p in (autograder / "autograded" / "alice" / CH).glob("*.ipynb")) == ["part1.ipynb", "part2.ipynb"]
    html = (autograder / "feedback" / "carol" / CH / "part1.html").read_text()
    assert "square(-3) should be 9, got -6" in html
    assert _gradebook_submissions(root) == sorted((s.student, s.score) for s in remote.submissions if s.status == GRADED)
    assert (root / "out" / "grades.csv").is_file()
    cluster.client.wait_for_workers(2, timeout=START_SECONDS)  # the nanny restarted the killed worker

    # graded submissions are kept on the next run, as on the local pool
    again = grade(root / "incoming", course_dir=autograder, out=root / "out", scheduler=cluster.address)
    assert again.get("alice", CH).status == ALREADY_GRADED and again.get("alice", CH).score == FULL


def test_a_stopped_coordinator_goes_on_where_it_stopped(cluster, tmp_path_factory):
    root, src, _ = _course(tmp_path_factory, "repo_stop")
    students = ["s1", "s2", "s3"]
    for student in students:
        put_submission(root / "incoming", student, src)
    run = subprocess.Popen([sys.executable, "-m", "cnncourse.cli", "grade", str(root / "incoming"), "--scheduler",
                            cluster.address, "--course-dir", str(root / "autograder"), "--out", str(root / "out")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in run.stdout:
        lines.append(line)
        if line.startswith("[1/3]"):
            break
    run.send_signal(signal.SIGTERM)
    rest, _ = run.communicate(timeout=120)
    assert run.returncode == 130, "".join(lines) + rest
    assert "run the same command again" in rest
    finished = {line.split()[1].split("/")[0] for line in lines + rest.splitlines() if line.startswith("[")}
    assert 1 <= len(finished) < len(students), "".join(lines) + rest

    again = grade(root / "incoming", course_dir=root / "autograder", out=root / "out", scheduler=cluster.address)
    for s in again.submissions:
        if s.student in finished:
            assert s.status == ALREADY_GRADED, s.line()
        else:
            assert s.status == GRADED and "resumed" in s.message, s.line()
    assert all(s.score == FULL for s in again.submissions), again.summary()
    assert _gradebook_submissions(root) == [(s, FULL) for s in students]


def test_a_task_with_another_version_or_chapter_source_is_refused_by_the_worker(cluster, tmp_path_factory):
    from cnncourse.grading.handshake import files_checksum, fingerprint, folder_files
    from cnncourse.grading.remote import grade_task

    root, _, _ = _course(tmp_path_factory, "repo_refuse")
    source = folder_files(root / "source" / CH)
    task = {"expected": fingerprint(), "chapter": CH, "student": "x", "source": source,
            "source_checksum": files_checksum(source), "submission": {}, "settings": {}, "deadline": 60}
    older = {**task, "expected": {**task["expected"], "cnncourse": "0.0.1"}}
    outcome = cluster.client.submit(grade_task, older, pure=False).result(timeout=120)
    assert not outcome["ok"] and "refused to grade" in outcome["refused"]
    assert "cnncourse version" in outcome["refused"] and "(the coordinator has 0.0.1)" in outcome["refused"]
    changed = {**task, "source": {**source, "part1.ipynb": source["part1.ipynb"] + b" "}}
    outcome = cluster.client.submit(grade_task, changed, pure=False).result(timeout=120)
    assert "refused to grade: the chapter source it received has checksum" in outcome["refused"]


def test_a_worker_with_another_package_is_refused_before_grading(tmp_path_factory):
    """A worker that imports a changed copy of cnncourse (one reference solution edited) fails the handshake."""
    import cnncourse

    folder = tmp_path_factory.mktemp("other_package")
    copy = folder / "site" / "cnncourse"
    shutil.copytree(Path(cnncourse.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    conv = copy / "ops" / "conv.py"
    conv.write_text(conv.read_text() + "\n# a changed reference solution\n")
    root, src, _ = _course(tmp_path_factory, "repo_other")
    put_submission(root / "incoming", "alice", src)
    other = Cluster(folder / "dask", workers=1, env={"PYTHONPATH": str(folder / "site")})
    try:
        with pytest.raises(SchedulerError, match=r"refused to grade: it has .*cnncourse package checksum"):
            grade(root / "incoming", course_dir=root / "autograder", out=root / "out", scheduler=other.address)
    finally:
        other.stop()
    assert _gradebook_submissions(root) == []


def test_a_bad_scheduler_address_is_a_clear_error(tmp_path_factory, monkeypatch, capsys):
    from cnncourse.cli import main
    from cnncourse.grading import dask_pool

    monkeypatch.setattr(dask_pool, "CONNECT_SECONDS", 2)
    root, src, _ = _course(tmp_path_factory, "repo_bad_address")
    put_submission(root / "incoming", "alice", src)
    nobody = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(SchedulerError, match=r"cannot reach the Dask scheduler at 'tcp://127\.0\.0\.1:\d+'.*dask scheduler"):
        grade(root / "incoming", course_dir=root / "autograder", scheduler=nobody)
    status = main(["grade", str(root / "incoming"), "--course-dir", str(root / "autograder"), "--scheduler", "no-such-scheme://x"])
    assert status == 2 and "cannot reach the Dask scheduler at 'no-such-scheme://x'" in capsys.readouterr().err
    assert _gradebook_submissions(root) == []


def test_a_cluster_file_starts_the_cluster_grades_on_it_and_stops_it(tmp_path_factory, capsys):
    """--cluster: a YAML file naming the cluster class (here distributed.LocalCluster; dask_jobqueue.SLURMCluster
    or dask_kubernetes' KubeCluster the same way); bad files are refused with what was expected."""
    root, src, _ = _course(tmp_path_factory, "repo_cluster")
    put_submission(root / "incoming", "alice", src)
    spec = root / "cluster.yaml"
    spec.write_text("cluster: distributed.LocalCluster\nkwargs: {n_workers: 1, threads_per_worker: 1, processes: false, "
                    "dashboard_address: '127.0.0.1:0'}\n")  # in-process: the file is what is tested
    report = grade(root / "incoming", course_dir=root / "autograder", out=root / "out", cluster=spec)
    assert report.get("alice", CH).status == GRADED and report.get("alice", CH).score == FULL
    assert "graded on" in report.get("alice", CH).log.read_text()

    bad = root / "bad.yaml"
    for text, says in [("kwargs: {}\n", "expected a YAML mapping with `cluster: package.module.ClusterClass`"),
                       ("cluster: no_such_package.Cluster\n", "cannot load no_such_package.Cluster")]:
        bad.write_text(text)
        with pytest.raises(SchedulerError, match=re.escape(says)):
            grade(root / "incoming", course_dir=root / "autograder", cluster=bad, force=True)
    with pytest.raises(SchedulerError, match="cluster file .*missing.yaml not found"):
        grade(root / "incoming", course_dir=root / "autograder", cluster=root / "missing.yaml", force=True)
    assert _gradebook_submissions(root) == [("alice", FULL)]
