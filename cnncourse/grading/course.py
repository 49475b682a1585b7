"""The nbgrader course: where its folders are, its configuration, and running one nbgrader step.

A course directory (the repository's autograder/, or a scratch folder in tests) holds `nbgrader_config.py`,
the gradebook and nbgrader's working folders. `load_course` reads that configuration the way nbgrader does, so
`cnncourse build`, `cnncourse grade` and a plain `nbgrader ...` run in that folder all use the same settings.

nbgrader steps run in this process (nbgrader's converter classes, as its own NbGraderAPI does) rather than in a
subprocess per call: a subprocess costs seconds of imports per student. Every call is wrapped by
`run_nbgrader`, which catches any failure and returns it with nbgrader's log, so one bad submission never stops
the others. Notebooks execute in fast mode (CNNCOURSE_MODE=fast), and in grade mode for autograde (trainings
shrink to a smoke run: no grade depends on them), see `notebook_environment`.
"""

import contextlib
import io
import logging
import os
import re
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COURSE_DIR = REPO / "autograder"
CONFIG_NAME = "nbgrader_config.py"
# Folders in a course directory (beside nbgrader's own) that `cnncourse grade` writes: scratch release, staged
# submissions, logs. Git-ignored.
WORK_DIR = ".grading"

# Environment of every notebook kernel started by build and grade. CNNCOURSE_MODE is forced (fast for build and
# validation, grade for autograde: see cnncourse.config); the others keep a value the caller set. oneDNN stays on:
# its start-up notice is kept out of the cells by the kernel configuration (docs/architecture.md, "Stable notebook
# outputs").
MODE_VAR = "CNNCOURSE_MODE"
DEFAULT_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}


class CourseError(ValueError):
    """A problem with the course itself (configuration, source notebooks): the message says what to fix."""


@contextlib.contextmanager
def notebook_environment(mode="fast"):
    """Set the environment that notebook kernels inherit (CNNCOURSE_MODE=mode); restore the previous one afterwards.

    Also puts this interpreter's bin/ first on PATH: nbgrader's gradebook runs the `alembic` command, which is
    only found there when the virtual environment is not activated (e.g. `.venv/bin/cnncourse grade`).
    """
    saved = {key: os.environ.get(key) for key in [MODE_VAR, *DEFAULT_ENV, "PATH"]}
    os.environ[MODE_VAR] = mode
    for key, value in DEFAULT_ENV.items():
        os.environ.setdefault(key, value)
    bin_dir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    try:
        yield
    finally:
        restore(os.environ, saved)


def restore(mapping, saved):
    """Put back the values `saved` ({key: value, None for absent}) into `mapping` (os.environ, a traitlets Config)."""
    for key, value in saved.items():
        if value is None:
            mapping.pop(key, None)
        else:
            mapping[key] = value


@dataclass
class Course:
    """An nbgrader course directory and its loaded configuration (a traitlets Config)."""

    root: Path
    config: object

    @property
    def source(self):
        """Folder of the instructor notebooks, one sub-folder per chapter."""
        return self._path("source_directory", "source")

    @property
    def release(self):
        """Folder of the student notebooks that `cnncourse build` writes."""
        return self._path("release_directory", "release")

    @property
    def course_id(self):
        return str(self.config.CourseDirectory.get("course_id", ""))

    @property
    def db_url(self):
        return str(self.config.CourseDirectory.get("db_url", "")) or f"sqlite:///{self.root / 'gradebook.db'}"

    @property
    def work(self):
        """cnncourse's own scratch folder inside the course directory."""
        return self.root / WORK_DIR

    def _path(self, trait, default):
        return Path(os.path.normpath(os.path.join(self.root, self.config.CourseDirectory.get(trait, default))))

    def chapters(self):
        """Names of the chapters: the folders of the source directory that hold at least one notebook."""
        if not self.source.is_dir():
            return []
        return sorted(
            d.name for d in self.source.iterdir() if d.is_dir() and not d.name.startswith((".", "_")) and any(d.glob("*.ipynb"))
        )

    def gradebook(self):
        """An nbgrader Gradebook of this course; use it as a context manager so it is closed.

        A SQLite gradebook is opened with a busy timeout: grading workers write to it at the same time.
        """
        from nbgrader.api import Gradebook

        return Gradebook(shared_db_url(self.db_url), self.course_id)

    def path(self, step_directory, student, chapter):
        """nbgrader's folder of one student's chapter for a step ("autograded_directory", "feedback_directory")."""
        from nbgrader.coursedir import CourseDirectory

        directory = CourseDirectory(config=self.config)
        return Path(directory.format_path(getattr(directory, step_directory), student, chapter))


SQLITE_BUSY_TIMEOUT = 120  # seconds a writer of the gradebook waits for another one


def shared_db_url(url):
    """`url` with a busy timeout when it names a SQLite file, so that parallel writers wait instead of failing."""
    if url.startswith("sqlite:") and "timeout=" not in url:
        url += ("&" if "?" in url else "?") + f"timeout={SQLITE_BUSY_TIMEOUT}"
    return url


def load_course(course_dir=COURSE_DIR, **paths):
    """Load the course directory `course_dir` and its nbgrader_config.py.

    Keyword arguments override CourseDirectory settings, e.g. source_directory=..., release_directory=....
    The root is always `course_dir`. Raises CourseError when the folder or its nbgrader_config.py is missing.
    """
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(course_dir).resolve()
    config_file = root / CONFIG_NAME
    if not config_file.is_file():
        raise CourseError(
            f"{config_file} not found: a course directory needs an nbgrader_config.py "
            f"(the course's own is {COURSE_DIR / CONFIG_NAME})"
        )
    config = PyFileConfigLoader(CONFIG_NAME, path=str(root)).load_config()
    overrides = Config()
    overrides.CourseDirectory.root = str(root)
    for key, value in paths.items():
        overrides.CourseDirectory[key] = relative_to_root(value, root)
    config.merge(overrides)
    return Course(root=root, config=config)


def relative_to_root(path, root):
    """`path` relative to the course root (e.g. "../source"), the form nbgrader handles in every folder name.

    nbgrader builds regular expressions from its folder settings and escapes only the root, so an absolute
    folder path containing "(", "+", "[" ... would not match; a relative one always does.
    """
    return os.path.relpath(os.path.abspath(path), os.path.abspath(root)) if os.path.isabs(str(path)) else str(path)


def write_course_config(course_dir, source, release, base=COURSE_DIR / CONFIG_NAME):
    """Write an nbgrader_config.py into `course_dir` that loads the course's settings with other folders.

    Used for scratch courses (tests, the round-trip harness): they grade with the same timeouts, stubs and
    locks as the real course, on their own gradebook and their own exchange (<course_dir>/exchange). Returns the
    path written.
    """
    base = Path(base).resolve()
    if not base.is_file():
        raise CourseError(f"the course configuration {base} is missing")
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    path = course_dir / CONFIG_NAME
    path.write_text(
        "# A scratch course: the settings of the real course, with this folder's paths.\n"
        "import os\n"
        f"load_subconfig({str(base)!r})\n"
        "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))\n"
        f"c.CourseDirectory.source_directory = {relative_to_root(Path(source).resolve(), course_dir)!r}\n"
        f"c.CourseDirectory.release_directory = {relative_to_root(Path(release).resolve(), course_dir)!r}\n"
        "c.Exchange.root = os.path.join(c.CourseDirectory.root, 'exchange')\n"
    )
    return path


@dataclass
class NbgraderRun:
    """What one nbgrader step did: success, its log, and the traceback when it failed."""

    step: str
    success: bool
    log: str = ""
    error: str = ""

    def records(self, level):
        """The messages nbgrader logged at `level` ("ERROR", "WARNING", ...), multi-line ones whole."""
        found, current = [], None
        for line in self.log.splitlines():
            match = re.match(r"\[([A-Z]+)\] ", line)
            if match:
                current = [line[match.end():]] if match.group(1) == level else None
                if current is not None:
                    found.append(current)
            elif current is not None:
                current.append(line)
        return ["\n".join(lines).strip() for lines in found]

    def reason(self):
        """One line that says why the step failed: nbgrader's first specific error, else the exception."""
        generic = ("There was an error processing", "Please see")
        for message in self.records("ERROR") + [self.error]:
            lines = [line.strip() for line in message.splitlines() if line.strip()]
            if not lines or lines[0].startswith(generic):
                continue
            reason = lines[-1] if lines[0].startswith("Traceback") else lines[0]
            for pattern, hint in _HINTS:
                if pattern in reason:
                    return f"{reason} ({hint})"
            return reason
        return "unknown error"


# Plain-words explanations of nbgrader failures that come from a student's code.
_HINTS = [
    ("Kernel died", "the notebook's Python process died: its code crashed Python, called exit, or ran out of memory"),
    ("UnresponsiveKernelError", "the notebook's code could not be interrupted, e.g. an endless loop that fills memory"),
    ("Timeout waiting for", "the kernel did not answer in time"),
]

_STEPS = {
    "generate_assignment": ("nbgrader.converters", "GenerateAssignment"),
    "autograde": ("nbgrader.converters", "Autograde"),
    "generate_feedback": ("nbgrader.converters", "GenerateFeedback"),
}


def run_nbgrader(step, course, assignment, student="*", force=False, **coursedir):
    """Run one nbgrader step ("generate_assignment", "autograde", "generate_feedback") in this process.

    `coursedir` overrides CourseDirectory settings for this call only (e.g. release_directory=scratch).
    Notebooks execute with `notebook_environment()`, in grade mode for autograde. Never raises for a failure of the step: returns an
    NbgraderRun with success False, nbgrader's log and the traceback.
    """
    import copy
    import importlib

    from nbgrader.coursedir import CourseDirectory

    module, name = _STEPS[step]
    converter_class = getattr(importlib.import_module(module), name)
    config = copy.deepcopy(course.config)
    if step == "generate_feedback":
        config.HTMLExporter.template_name = "feedback"
    for key, value in coursedir.items():
        config.CourseDirectory[key] = relative_to_root(value, course.root)

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger = logging.getLogger(f"cnncourse.nbgrader.{step}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.handlers[:] = [handler]
    try:
        with notebook_environment("grade" if step == "autograde" else "fast"), warnings.catch_warnings():
            # nbgrader's gradebook code triggers SQLAlchemy warnings about its own session handling: not ours to fix
            warnings.filterwarnings("ignore", module="sqlalchemy")
            warnings.filterwarnings("ignore", message=".*not in session.*")
            directory = CourseDirectory(config=config, assignment_id=assignment, student_id=student, log=logger)
            converter = converter_class(coursedir=directory, config=config, log=logger)
            converter.force = force
            converter.start()
    except BaseException as err:  # nbgrader calls sys.exit() on some errors: that must not end the grading
        if isinstance(err, KeyboardInterrupt):
            raise
        success, error = False, traceback.format_exc()
    else:
        success, error = True, ""
    finally:
        logger.handlers[:] = []
    return NbgraderRun(step=step, success=success, log=buffer.getvalue(), error=error)
