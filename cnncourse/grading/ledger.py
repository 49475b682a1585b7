"""What `cnncourse grade` has started and finished, so that a stopped run can be started again.

One small JSON file per submission, <course>/.grading/ledger/<chapter>/<student>.json, written by the grading
process only (never by a worker or a student's kernel), each write atomic (a temporary file, then a rename):

- {"state": "started", "checksum": ...} just before the submission's worker starts;
- {"state": "done", "checksum": ..., "status": ...} once its grade is recorded and its feedback written.

On the next run a "done" submission is skipped (its grade is kept; a changed submission is said to have changed),
a "started" one was interrupted (the run was stopped, the machine went down) and is graded again, replacing the
partial autograde it may have left. A submission graded before by plain nbgrader has no entry and an autograded
folder: it is kept as "already graded", like a done one.
"""

import contextlib
import fcntl
import hashlib
import json
from pathlib import Path

STARTED = "started"
DONE = "done"


def submission_checksum(folder, names):
    """sha256 over the names and bytes of the notebooks `names` of `folder` (what was graded), as hex."""
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(name.encode() + b"\0")
        digest.update((Path(folder) / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


class LedgerBusy(ValueError):
    """Another grading run holds the course's lock."""


class Ledger:
    """The ledger of one course directory's grading runs."""

    def __init__(self, work_dir):
        self.root = Path(work_dir) / "ledger"

    @contextlib.contextmanager
    def lock(self):
        """Hold the course's grading lock for the block; raises LedgerBusy when another run holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "grade.lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LedgerBusy(f"another `cnncourse grade` is running on this course directory ({self.root.parent.parent}); "
                                 f"wait for it to finish or stop it, then run this one again") from None
            yield

    def _path(self, student, chapter):
        return self.root / chapter / f"{student}.json"

    def get(self, student, chapter):
        """The entry of a submission as a dict, or None (never graded by cnncourse, or an unreadable entry)."""
        try:
            return json.loads(self._path(student, chapter).read_text())
        except (OSError, ValueError):
            return None

    def _write(self, student, chapter, entry):
        path = self._path(student, chapter)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_text(json.dumps(entry))
        tmp.replace(path)

    def start(self, student, chapter, checksum):
        self._write(student, chapter, {"state": STARTED, "checksum": checksum})

    def finish(self, student, chapter, checksum, status, message="", flagged=()):
        """Record a submission as done: its status (graded, failed), the report's message, its flagged grade cells."""
        self._write(student, chapter, {"state": DONE, "checksum": checksum, "status": status, "message": message,
                                       "flagged": [list(f) for f in flagged]})
