"""Build and grade the course with nbgrader.

- `build.build(chapters=None, execute=True)`: render reference cells from the package into source/, generate
  release/ (nbgrader generate_assignment) and execute solutions/ in fast mode. (`cnncourse build`)
- `grade.grade(folder)`: validate and autograde a folder of submissions, write feedback HTML and grades CSVs,
  print a summary; returns a GradeReport. (`cnncourse grade <folder>`)
- `exchange`: nbgrader's exchange for the instructor, `release`, `collect`, `release_feedback`, each reporting per
  student and chapter what needs a decision. (`cnncourse release | collect | feedback CHAPTER`)
- `notebooks`: reference cells (`sync_references`, `check_references`) and reproducible execution.
- `intake`: a folder or zip in the usual layouts -> nbgrader's <student>/<chapter>/ folders; `submissions`: finding
  and validating them; `ledger`: what a run started and finished; `worker`: grading one submission in a process of
  its own; `sandbox`: the kernel a student's notebook runs in; `tripwire`: guards on the reference solutions and
  the checks' own code; `evidence`: what a grading kernel records of its checks (`layer_replay`: a layer class of the
  notebook's, recorded and replayed); `import_hooks`: the one import hook through which the recorder and
  the tripwire reach the checks modules imported later; `judge`: each grade cell's verdict reached again outside
  the kernel, from that record;
  `report`: results, summary and CSVs; `feedback`: the feedback without the hidden tests; `course`: the nbgrader
  course directory, its config, one nbgrader step.

nbgrader's configuration is autograder/nbgrader_config.py; see autograder/README.md.
Import the sub-modules directly; this package imports nothing heavy on its own.
"""
