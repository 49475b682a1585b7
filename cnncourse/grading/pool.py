"""Worker processes for `cnncourse grade`: one per submission, a few at a time, each with a deadline.

A worker (worker.py) is started in a session of its own (so that its process group can be killed at its deadline)
and with PR_SET_PDEATHSIG (so that it dies with the grading process, whatever ends that). The pool stops cleanly
on Ctrl-C, SIGTERM or SIGHUP: the running workers are killed and KeyboardInterrupt is raised to the caller.
"""

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Job:
    """One submission handed to a worker process."""

    result: object  # report.SubmissionResult, filled in when the job ends
    chapter: object  # grade.Chapter
    checksum: str
    spec: dict
    deadline: float
    log: Path
    notebooks: int = 1
    was_graded: bool = False  # a grade was recorded before this run (then a failure must not remove it)
    process: subprocess.Popen = None
    started: float = 0.0


def _die_with_parent():
    """In the worker, between fork and exec: be killed when the grading process ends (PR_SET_PDEATHSIG).

    Set before exec, so that a worker started just as the run is stopped cannot outlive it and grade on.
    """
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)


def start_worker(job, module="cnncourse.grading.worker"):
    """Start `python -m <module>` (the grading worker) on the job's spec, its output into the job's log."""
    Path(job.spec["result"]).unlink(missing_ok=True)
    spec_path = job.log.with_suffix(".job.json")
    spec_path.write_text(json.dumps(job.spec))
    with open(job.log, "w") as log:
        job.process = subprocess.Popen([sys.executable, "-m", module, str(spec_path)],
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, preexec_fn=_die_with_parent, cwd=job.spec["course"])
    job.started = time.monotonic()


def kill_worker(job):
    """Kill the job's worker and its process group, and reap it."""
    try:
        os.killpg(job.process.pid, signal.SIGKILL)  # the worker's group; its kernels die with it (PDEATHSIG)
    except ProcessLookupError:
        pass
    job.process.wait()


@contextlib.contextmanager
def stop_requests():
    """Within the block, Ctrl-C (SIGINT), SIGTERM and SIGHUP are recorded in the yielded list instead of stopping.

    The caller's loop checks the list at each turn and stops (raising from the handler could be swallowed). SIGINT
    is caught only when it has Python's default handler (not when the shell made us ignore it); outside the main
    thread no handler can be set, and the list stays empty. The previous handlers are restored at the end.
    """
    stop = []
    signals = [signal.SIGTERM, signal.SIGHUP]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signals.append(signal.SIGINT)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.append(signum)) for sig in signals} if main_thread else {}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stopped_message(done, left):
    """What a stopped run prints: how many were graded, how many are left, how to go on."""
    return (f"grade: stopped; {done} submission(s) graded in this run, {left} left: "
            f"run the same command again to grade the rest")


def run_jobs(jobs, workers, on_start, on_end):
    """Run the jobs, `workers` at a time, each in a worker process; returns the results of on_end, in job order.

    on_start(job) runs just before a job's worker starts; on_end(job, returncode, timed_out) when it has ended (or
    could not start: returncode None) and returns the job's result. A job past its deadline is killed.

    Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the run at the loop's next turn: the running workers are killed,
    on_end is not called for them, and KeyboardInterrupt is raised.
    """
    queue, running, done = list(jobs), [], {}
    with stop_requests() as stop:
        try:
            while queue or running:
                if stop:
                    raise KeyboardInterrupt(f"signal {stop[0]}")
                while queue and len(running) < workers:
                    job = queue.pop(0)
                    running.append(job)  # first: a stop from here on kills its worker
                    on_start(job)
                    try:
                        start_worker(job)
                    except OSError:
                        running.remove(job)
                        job.started = time.monotonic()
                        done[id(job)] = on_end(job, None, False)
                time.sleep(0.2)
                for job in list(running):
                    returncode = job.process.poll()
                    timed_out = returncode is None and time.monotonic() - job.started > job.deadline
                    if timed_out:
                        kill_worker(job)
                    if returncode is not None or timed_out:
                        running.remove(job)
                        done[id(job)] = on_end(job, job.process.returncode, timed_out)
        except BaseException:
            for job in running:
                if job.process is not None:
                    kill_worker(job)
            print(stopped_message(len(done), len(running) + len(queue)))
            raise
    return [done[id(job)] for job in jobs]
