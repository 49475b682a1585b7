"""One submission's autograde, carried from a remote worker's private gradebook into the course's gradebook.

A Dask worker grades in a scratch course of its own (remote.py); `export_submission` reads what nbgrader's autograde
recorded there, as plain data. The coordinator, the only process that writes the course's gradebook, replays it
with `import_submission`, setting the same fields nbgrader's SaveAutoGrades preprocessor sets. Grades given by hand
(formgrader) are kept, and such a grade is marked for review, as nbgrader does when it regrades.
"""

import warnings


def export_submission(gradebook, chapter, student):
    """The autograde of `student`'s `chapter` in `gradebook` (an open nbgrader Gradebook), as a JSON-able dict.

    Returns {"timestamp": ISO string or None, "notebooks": {notebook: {"grades": {grade_id: auto_score or None},
    "comments": {cell name: auto_comment or None}, "late_submission_penalty": float or None}}}.
    Raises nbgrader.api.MissingEntry when nothing is recorded.
    """
    submission = gradebook.find_submission(chapter, student)
    return {
        "timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
        "notebooks": {
            nb.name: {
                "grades": {g.name: None if g.auto_score is None else float(g.auto_score) for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
                "late_submission_penalty": nb.late_submission_penalty,
            } for nb in submission.notebooks
        },
    }


def import_submission(gradebook, chapter, student, rows):
    """Record `rows` (from export_submission) as `student`'s autograde of `chapter` in `gradebook`.

    The chapter must be recorded in `gradebook` with the same notebooks and cells (the worker graded the same
    source: handshake.py). Creates the student and the submission when needed; replaces earlier automatic scores.
    Raises ValueError naming a notebook or cell the gradebook does not know.
    """
    from datetime import datetime

    from nbgrader.api import MissingEntry

    gradebook.update_or_create_student(student)
    kwargs = {"timestamp": datetime.fromisoformat(rows["timestamp"])} if rows.get("timestamp") else {}
    with warnings.catch_warnings():  # SQLAlchemy's warnings about nbgrader's own session handling (as course.py)
        warnings.filterwarnings("ignore", message=".*not in session.*")
        gradebook.update_or_create_submission(chapter, student, **kwargs)
    try:
        for notebook, data in rows["notebooks"].items():
            for name, score in data["grades"].items():
                grade = gradebook.find_grade(name, notebook, chapter, student)
                grade.auto_score = score
                grade.needs_manual_grade = grade.manual_score is not None or score is None
            for name, text in data["comments"].items():
                gradebook.find_comment(name, notebook, chapter, student).auto_comment = text
            gradebook.find_submission_notebook(notebook, chapter, student).late_submission_penalty = \
                data.get("late_submission_penalty")
    except MissingEntry as err:
        gradebook.db.rollback()
        raise ValueError(f"the worker's grades do not fit the gradebook's {chapter}: {err}") from None
    gradebook.db.commit()
