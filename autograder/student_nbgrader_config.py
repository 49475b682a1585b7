"""nbgrader configuration of a STUDENT of cnncourse (not loaded by the course itself).

Install it where the students' Jupyter finds it: /etc/jupyter/nbgrader_config.py in the students' image (a
JupyterHub image, a lab machine), or ~/.jupyter/nbgrader_config.py of each student. It names the course and the
exchange folder; the Assignment List extension (fetch, submit, fetch feedback) and `nbgrader fetch_assignment`,
`nbgrader submit`, `nbgrader fetch_feedback` then use them. The root must be the instructor's Exchange.root
(autograder/nbgrader_config.py): the same folder, at the same path, on every machine or container.
nbgrader takes the student id from the account's user name (on JupyterHub images whose user is `jovyan`, from
JUPYTERHUB_USER). See docs/teaching.md.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "cnncourse"
# A shared folder on JupyterHub; on one machine, the instructor's <repository>/autograder/exchange (printed by
# `cnncourse release`).
c.Exchange.root = os.environ.get("CNNCOURSE_EXCHANGE") or "/srv/nbgrader/exchange"
