"""nbgrader configuration of the cnncourse course.

This folder (autograder/) is nbgrader's course directory: the gradebook (gradebook.db) and nbgrader's working
folders (submitted/, autograded/, feedback/) are created here and kept out of git. The instructor notebooks and
the student notebooks live at the top of the repository, in source/ and release/; the paths below are computed
from this file's location, so nbgrader finds them from any working directory.

`cnncourse build` and `cnncourse grade` load this file; so do `nbgrader ...` commands run in this folder and the
formgrader (`make formgrader`). Tests load it too, with the paths of a scratch course
(cnncourse.grading.course.write_course_config), so they grade with exactly these settings.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# --- where things are ------------------------------------------------------------------------------------------
c.CourseDirectory.course_id = "cnncourse"
c.CourseDirectory.root = HERE
# source/ and release/ are given relative to the root ("../source"), which resolves to the same absolute folders:
# nbgrader matches notebook paths with regular expressions in which it escapes the root but not these folder
# names, so an absolute path breaks when the repository path holds a character such as "(" or "+".
c.CourseDirectory.source_directory = os.path.relpath(os.path.join(REPO, "source"), HERE)
c.CourseDirectory.release_directory = os.path.relpath(os.path.join(REPO, "release"), HERE)
# Files never copied from source/ to release/ or into a student's autograded folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store"]

# --- the student version (generate_assignment) -------------------------------------------------------------------
# nbgrader's defaults, stated so that the notebooks' prose can rely on them.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
# A solution region outside a solution cell (or hidden tests outside a grade cell) is an error, not a silent leak.
c.ClearSolutions.enforce_metadata = True
c.ClearHiddenTests.enforce_metadata = True
# Students cannot edit or delete the tests and read-only cells; they cannot delete (but edit) solution cells.
c.LockCells.lock_grade_cells = True
c.LockCells.lock_readonly_cells = True
c.LockCells.lock_solution_cells = True

# --- grading (autograde) ---------------------------------------------------------------------------------------
# Seconds a single cell may run before it is interrupted and scored as failed. Grading runs in fast mode
# (CNNCOURSE_MODE=fast), where the longest cell (a Keras fit) takes well under a minute on a 2-core laptop;
# the margin covers a busy grading machine. A student's infinite loop costs at most this much per cell.
c.Execute.timeout = 300
# Start-up of a kernel (TensorFlow import) on a loaded machine.
c.Execute.startup_timeout = 120
c.Execute.interrupt_on_timeout = True
# Kernel arguments: no history file, and no start-up warnings from the kernel on the grader's terminal (ipykernel
# warns about unencrypted TCP on every start; errors still show).
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
# No retries: a notebook that fails fails the same way twice, and a retry doubles the cost of an endless loop.
c.Execute.execute_retries = 0
# The kernel is killed once the notebook has run, not asked to exit: its outputs (and the checks' records, written
# as each check returns) are all in by then, and an orderly exit of a kernel that loaded TensorFlow takes about a
# second of interpreter teardown, for every notebook of every submission.
c.Execute.shutdown_kernel = "immediate"
# Keep feedback readable when a student's loop prints without end.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# --- feedback (generate_feedback) --------------------------------------------------------------------------------
# The feedback shows what failed and why, not the hidden tests (nbgrader issue #917): HideHiddenTests replaces each
# hidden region by a note, drops the hidden-test and checks frames from tracebacks and the lines of any output that
# quote hidden tests (cnncourse/grading/feedback.py). The autograded notebook keeps the original. nbgrader's own
# feedback preprocessors stay, in their order.
from cnncourse.grading.feedback import feedback_preprocessors  # noqa: E402

c.GenerateFeedback.preprocessors = feedback_preprocessors()

# --- the exchange: release, fetch, submit, collect, feedback ------------------------------------------------------
# One machine (a lab server, a shared workstation), the default: the exchange is a folder inside the course,
# autograder/exchange/ (git-ignored). `cnncourse release` creates it world-writable (drwxrwxrwx), as nbgrader wants:
# students write their submissions into it and cannot list or read the others' (inbound/ is drwx-wx-ws). Students
# reach it only if they can enter the folders above it (chmod o+x); their own nbgrader config names the same root
# and course id (autograder/student_nbgrader_config.py, or what `cnncourse release` prints).
# JupyterHub: every user's server is a separate container or account, so the exchange must be a folder that all of
# them mount at the same path, e.g. a shared volume at /srv/nbgrader/exchange (nbgrader's multi-user exchange;
# see docs/teaching.md). Set CNNCOURSE_EXCHANGE=/srv/nbgrader/exchange for the instructor, or edit the line below.
# Without a shared file system, use ngshare (a JupyterHub service; the students' and the instructor's config both
# then load `ngshare_exchange.configureExchange(c, ...)` instead of setting Exchange.root), see docs/teaching.md.
c.Exchange.root = os.environ.get("CNNCOURSE_EXCHANGE") or os.path.join(HERE, "exchange")
# Students submit more than once: `nbgrader collect` (and `cnncourse collect`) takes each student's latest
# submission. A submission after the chapter's due date (`cnncourse release CHAPTER --due ...`) is recorded as late
# with its seconds late; nbgrader's default penalty is none ("zero" would score a late submission 0).
c.LateSubmissionPlugin.penalty_method = "none"
