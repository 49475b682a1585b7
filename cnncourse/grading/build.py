"""`cnncourse build`: source/ -> (sync) -> release/ (nbgrader generate_assignment) and solutions/ (executed).

Steps, for every chapter (a folder of source/ holding notebooks) or the chapters asked for:
1. sync: render each reference cell of the source notebooks from the package (see notebooks.py);
2. release: nbgrader generate_assignment with autograder/nbgrader_config.py, replacing release/<chapter>/ and
   recording the chapter in autograder/gradebook.db;
3. solutions (execute=True): run each source notebook top to bottom in fast mode and write it to
   solutions/<chapter>/.
release/ is byte-identical when the build runs twice on the same source: nbgrader's output has no timestamps or
random ids once every source cell has an id, which step 1 ensures.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

from cnncourse.grading.course import COURSE_DIR, REPO, CourseError, load_course, notebook_environment, run_nbgrader
from cnncourse.grading.notebooks import KERNEL_ARGUMENTS, check_references, execute_notebook, sync_references


@dataclass
class BuildResult:
    """What a build did: the chapters, the reference cells it rewrote, the notebooks it released and executed."""

    chapters: list
    synced: list = field(default_factory=list)  # Drift records that were fixed
    released: list = field(default_factory=list)  # paths of release notebooks
    executed: list = field(default_factory=list)  # paths of solutions notebooks


def pick_chapters(course, chapters=None):
    """The chapters to work on: all of them, or those asked for (unknown names are a CourseError)."""
    known = course.chapters()
    if not chapters:
        if not known:
            raise CourseError(f"{course.source} holds no chapter (a folder with .ipynb files)")
        return known
    unknown = [c for c in chapters if c not in known]
    if unknown:
        raise CourseError(f"unknown chapter(s) {', '.join(unknown)}; the chapters in {course.source} are: {', '.join(known) or 'none'}")
    return list(dict.fromkeys(chapters))


def _rel(path, repo):
    try:
        return Path(path).relative_to(repo)
    except ValueError:
        return Path(path)


def build(chapters=None, execute=True, repo=REPO, check=False):
    """Build the course in `repo`: sync reference cells, generate release/, execute solutions/.

    Args:
        chapters: chapter names (folders of source/), or None for all.
        execute: also run the source notebooks (fast mode) into solutions/<chapter>/.
        repo: the repository root; its autograder/nbgrader_config.py configures nbgrader.
        check: only verify that the reference cells match the package; writes nothing, raises CourseError
            when they do not.
    Returns:
        BuildResult.
    Raises:
        CourseError (a ValueError) with a message naming the notebook and cell, or nbgrader's error.
    """
    with notebook_environment():  # also keeps TensorFlow's start-up notices quiet when sync imports the package
        return _build(chapters, execute, Path(repo).resolve(), check)


def _build(chapters, execute, repo, check):
    course = load_course(repo / COURSE_DIR.name, source_directory=repo / "source", release_directory=repo / "release")
    chapters = pick_chapters(course, chapters)
    result = BuildResult(chapters=chapters)

    notebooks = [p for ch in chapters for p in sorted((course.source / ch).glob("*.ipynb"))]
    if check:
        check_references(notebooks)
        print(f"sync: the reference cells of {len(notebooks)} notebook(s) match the package")
        return result
    drifts = sync_references(notebooks)
    result.synced = drifts
    if drifts:
        for d in drifts:
            print(f"sync: {_rel(d.notebook, repo)}: cell {d.cell} rendered from {d.reference}")
    print(f"sync: {len(drifts)} reference cell(s) updated in {len(notebooks)} notebook(s)")

    for chapter in chapters:
        run = run_nbgrader("generate_assignment", course, chapter, force=True)
        if not run.success:
            raise CourseError(f"nbgrader generate_assignment {chapter} failed: {run.reason()}\n{run.log}{run.error}")
        released = sorted((course.release / chapter).glob("*.ipynb"))
        result.released.extend(released)
        print(f"release: {chapter} -> {_rel(course.release / chapter, repo)}/ ({len(released)} notebook(s))")

    if execute:
        timeout = int(course.config.Execute.get("timeout", 300))
        startup = int(course.config.Execute.get("startup_timeout", 120))
        kernel_args = list(course.config.Execute.get("extra_arguments", KERNEL_ARGUMENTS))
        for chapter in chapters:
            out_dir = repo / "solutions" / chapter
            sources = sorted((course.source / chapter).glob("*.ipynb"))
            for stale in sorted(out_dir.glob("*.ipynb")):
                if stale.name not in {s.name for s in sources}:
                    stale.unlink()
                    print(f"solutions: removed {_rel(stale, repo)} (no such source notebook)")
            for src in sources:
                start = time.perf_counter()
                dest = execute_notebook(
                    src, out_dir / src.name, timeout=timeout, startup_timeout=startup, extra_arguments=kernel_args
                )
                result.executed.append(dest)
                print(f"solutions: {_rel(dest, repo)} executed in fast mode ({time.perf_counter() - start:.0f} s)")
    return result
