"""`cnncourse grade --scheduler tcp://host:8786` (or `--cluster FILE`): the submissions graded as tasks on Dask.

The local pool (pool.py) stays the default and needs no server. With a scheduler, each planned Job becomes one Dask
task (remote.make_task: the submission's notebooks and the chapter's source with its checksum) that a worker grades
in a private scratch course (remote.grade_task) and answers with data. This process, the coordinator, is the only
one that writes the gradebook, the ledger and the CSVs (remote.accept, then grade.py's on_end), so a lost worker
loses nothing: Dask's scheduler gives the task of a worker that dies to another worker (up to its
`distributed.scheduler.allowed-failures`, 3 by default), and the coordinator records each submission once, when
its one result arrives.

Before the first task, every connected worker must pass the handshake (handshake.py: same cnncourse, package,
nbgrader settings); each task checks it again on the worker that runs it (workers may join later).
Ctrl-C or SIGTERM stops the run as on the local pool: the pending tasks are cancelled (a task already running
is stopped on its worker within a second), the ledger says what was started, and the same command again
goes on. Dask is imported here only, so the package imports and grades without it.
"""

import time
from pathlib import Path

from cnncourse.grading.course import CourseError
from cnncourse.grading.handshake import files_checksum, fingerprint, folder_files, mismatch
from cnncourse.grading.pool import stop_requests, stopped_message
from cnncourse.grading.remote import accept, grade_task, make_task

CONNECT_SECONDS = 20  # to reach the scheduler
WORKER_SECONDS = 120  # for the first worker to join


class SchedulerError(CourseError):
    """The Dask scheduler or cluster cannot be reached or used: the message says what to check."""


def _hint(address):
    return (f"start a scheduler with `dask scheduler` and workers with `dask worker {address}` (see autograder/"
            f"README.md, \"Grading on a cluster\"), check the address, or grade on this machine without --scheduler")


def connect(scheduler=None, cluster=None, connect_seconds=None):
    """A distributed.Client of the scheduler at `scheduler` ("tcp://host:8786"), or of a cluster made from `cluster`.

    cluster: the path of a cluster file (read_cluster_file). Returns (client, cluster object or None); close both.
    Raises SchedulerError when the scheduler cannot be reached or no worker joins in WORKER_SECONDS.
    """
    from distributed import Client

    made = make_cluster(cluster) if cluster else None
    address = made.scheduler_address if made else str(scheduler)
    try:
        client = Client(made or address, timeout=connect_seconds or CONNECT_SECONDS)
    except (OSError, ValueError, TypeError) as err:
        if made:
            made.close()
        raise SchedulerError(f"cannot reach the Dask scheduler at {address!r}: {err}; {_hint(address)}") from None
    try:
        client.wait_for_workers(1, timeout=WORKER_SECONDS)
    except (OSError, TimeoutError) as err:
        client.close()
        if made:
            made.close()
        raise SchedulerError(f"the Dask scheduler at {address} has no worker ({err}); {_hint(address)}") from None
    return client, made


def read_cluster_file(path):
    """The cluster file: YAML {"cluster": "package.module.ClusterClass", "kwargs": {...}, "scale": n workers}.

    For example dask_jobqueue.SLURMCluster or dask_kubernetes.operator.KubeCluster (installed separately), or
    distributed.LocalCluster. Returns the dict; raises SchedulerError for a missing file or a missing "cluster".
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise SchedulerError(f"cluster file {path} not found")
    spec = yaml.safe_load(path.read_text()) or {}
    if not isinstance(spec, dict) or not isinstance(spec.get("cluster"), str) or "." not in spec["cluster"]:
        raise SchedulerError(f"{path}: expected a YAML mapping with `cluster: package.module.ClusterClass` "
                             f"(e.g. dask_jobqueue.SLURMCluster), optional `kwargs:` and `scale:`")
    return spec


def make_cluster(path):
    """Start the cluster that the cluster file `path` describes and scale it; returns the cluster object."""
    import importlib

    spec = read_cluster_file(path)
    module, _, name = spec["cluster"].rpartition(".")
    try:
        cluster_class = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise SchedulerError(f"{path}: cannot load {spec['cluster']} ({err}); install the package that provides "
                             f"it (e.g. pip install dask-jobqueue) on this machine") from None
    cluster = cluster_class(**(spec.get("kwargs") or {}))
    if spec.get("scale"):
        cluster.scale(int(spec["scale"]))
    return cluster


def check_workers(client, expected):
    """Raise SchedulerError when a connected worker's fingerprint differs from `expected` (the coordinator's).

    Also prints each worker on which the sandbox cannot use namespaces (sandbox.isolation), with the reason.
    """
    from cnncourse.grading.sandbox import isolation

    found = client.run(fingerprint)
    problems = [mismatch(expected, theirs, f"the Dask worker {address}") for address, theirs in sorted(found.items())]
    problems = [p for p in problems if p]
    if problems:
        raise SchedulerError("; ".join(problems))
    for address, (isolated, why) in sorted(client.run(isolation).items()):
        if not isolated:
            print(f"grade: the Dask worker {address} grades without namespaces ({why}): kernels get the limits, "
                  f"not the hidden folders or the network cut (autograder/README.md)", flush=True)


def run_dask_jobs(jobs, course, on_start, on_end, scheduler=None, cluster=None):
    """Grade the jobs as Dask tasks; returns the results of on_end, in job order (as pool.run_jobs does).

    on_start(job) runs when the job's task is submitted; on_end(job, returncode, timed_out) once its outcome has
    been written to the course (remote.accept). Raises SchedulerError before any task runs when the scheduler cannot
    be used, KeyboardInterrupt when stopped by a signal.
    """
    from distributed import wait

    client, made = connect(scheduler, cluster)
    done, futures = {}, {}
    try:
        expected = fingerprint()
        check_workers(client, expected)
        print(f"grade: on the Dask scheduler {client.scheduler.address} with "
              f"{len(client.scheduler_info(n_workers=-1)['workers'])} worker(s)", flush=True)
        with stop_requests() as stop:
            try:
                sources = {}
                for job in jobs:
                    chapter = job.spec["chapter"]
                    if chapter not in sources:
                        files = folder_files(course.source / chapter)
                        sources[chapter] = (files, files_checksum(files))
                    task = make_task(job, *sources[chapter], expected)
                    on_start(job)
                    job.started = time.monotonic()
                    key = f"cnncourse-grade-{chapter}-{job.spec['student']}-{time.time_ns()}"
                    futures[client.submit(dask_task, task, key=key, pure=False)] = job
                pending = set(futures)
                while pending:
                    if stop:
                        raise KeyboardInterrupt(f"signal {stop[0]}")
                    try:
                        finished, pending = wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
                    except TimeoutError:
                        continue
                    for future in finished:
                        job = futures[future]
                        try:
                            ended = accept(course, job, _outcome(future))
                        except Exception as err:  # noqa: BLE001 -- one submission must never stop the others
                            ended = accept(course, job, _failed(f"{type(err).__name__} while recording the result "
                                                                f"of the Dask task: {err}"))
                        done[id(job)] = on_end(job, *ended)
            except BaseException:
                client.cancel(list(futures))
                print(stopped_message(len(done), len(jobs) - len(done)))
                raise
    finally:
        client.close()
        if made:
            made.close()
    return [done[id(job)] for job in jobs]


def dask_task(task):
    """What a Dask worker runs: remote.grade_task, stopped when the coordinator cancels the task.

    A running Python thread cannot be interrupted, so the task asks its worker, between checks of the grading
    process, whether the task is still wanted.
    """
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()

    def cancelled():
        state = worker.state.tasks.get(key)
        return state is None or state.state in ("cancelled", "released", "forgotten")

    return grade_task(task, cancelled=cancelled)


def _outcome(future):
    """The outcome of a finished task; a task that raised (a worker that kept dying: KilledWorker) is a failure."""
    try:
        return future.result()
    except Exception as err:  # noqa: BLE001 -- one submission's failure must never stop the others
        if type(err).__name__ == "KilledWorker":
            return _failed(f"every Dask worker that took it died while grading it ({err})")
        return _failed(f"the Dask task failed: {type(err).__name__}: {err}")


def _failed(message):
    """The outcome of a submission that failed outside the grading process, with `message` as the reason."""
    return {"ok": False, "error": message, "refused": "", "log": "", "flagged": [], "feedback": False,
            "feedback_error": "", "reported": True, "host": "the coordinator"}
