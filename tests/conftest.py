"""Shared pytest hooks: the test tiers (`system` for `make test` only), the groups that pytest-xdist keeps on one worker,
and the summary of what the nbgrader round trip covered, what the bad-input suite proved and what the browser tier
checked (or why it was skipped), gathered from every worker."""

import sys
from pathlib import Path

import pytest

# Tests that run whole systems: nbgrader, notebooks, kernels in the sandbox, pip, a browser, a Dask cluster, the JAX
# backend in subprocesses, or trainings of a minute. `make test` runs them with everything else; `make check` (the
# edit loop) leaves them out.
SYSTEM_MODULES = {
    "test_browser", "test_build", "test_class_loop", "test_feedback", "test_grade", "test_grade_bad_input",
    "test_grade_dask", "test_grade_intake", "test_grade_references", "test_install", "test_jax_tier",
    "test_judge_red_team", "test_lab", "test_roundtrip_chapters", "test_student_edition",
}


# Trainings that must reach a result (tens of seconds each): system tier too.
SYSTEM_TESTS = {
    "test_fast_training_beats_the_mean_landmark_predictor_on_held_out_faces", "test_short_trainings_beat_chance",
    "test_transfer_vs_scratch_result_and_plot", "test_short_training_beats_an_untrained_encoder_on_held_out_people",
    "test_depth_sweep_result_and_plot", "test_style_transfer_lowers_the_style_cost_and_keeps_pixels_in_range",
}

# Parallel runs (`pytest -n 2`, as `make test` and `make check` do): pytest-xdist hands each worker whole MODULES
# (and whole notebooks, for nbval), so that a module's fixtures (a graded class, a JupyterLab server, a Dask cluster)
# are made once, on one worker, and a notebook's cells run in order in one kernel. The tests of SPLIT_MODULES share
# nothing costly and are each long (a chapter's round trip, a notebook under JAX): they are handed out one by one.
# (pytest-xdist's own `--dist loadgroup` does not work with pytest 9: it renames items through an attribute that
# pytest 9 no longer reads. The scheduler below does the grouping instead.)
SPLIT_MODULES = {"test_roundtrip_chapters", "test_jax_tier", "test_student_edition", "test_build"}

# Rough seconds per test (SPLIT_MODULES) or per module (the others) on 2 cores, from the fresh-clone runs in
# docs/benchmarks.md: the run hands out the longest work first, so that no long one is left for the end while the
# other worker idles. A module not named here counts as short.
EXPECTED_SECONDS = {
    "test_grade_dask": 240, "test_browser": 240, "test_grade_bad_input": 200, "c3_3_yolo": 200,
    "test_roundtrip_chapters": 130, "test_grade": 120, "test_grade_references": 200, "test_class_loop": 120,
    "test_install": 100, "test_judge_red_team": 90, "test_jax_tier": 60, "test_feedback": 60, "test_lab": 30,
    "test_grade_intake": 30, "test_student_edition": 30, "test_build": 30,
}
NOTEBOOK_SECONDS = 60  # nbval: one solutions notebook, not named above


def pytest_configure(config):
    config.addinivalue_line("markers", "system: runs a whole system (nbgrader, notebooks, a browser, Dask, pip); "
                                       "left out by `make check`")


def _module(item):
    """The item's module name ("test_grade") or notebook stem ("c3_3_yolo")."""
    return Path(str(item.fspath)).stem


def pytest_itemcollected(item):
    """Mark the system tier: SYSTEM_MODULES, SYSTEM_TESTS and every executed notebook (nbval)."""
    notebook = str(item.fspath).endswith(".ipynb")
    if _module(item) in SYSTEM_MODULES or item.name.split("[")[0] in SYSTEM_TESTS or notebook:
        item.add_marker(pytest.mark.system)


def pytest_collection_modifyitems(config, items):
    """Order the run longest first (EXPECTED_SECONDS); a module's items stay together and in their order."""
    def expected(item):
        default = NOTEBOOK_SECONDS if str(item.fspath).endswith(".ipynb") else 0
        return EXPECTED_SECONDS.get(_module(item), default)

    items.sort(key=lambda item: -expected(item))  # stable: ties keep pytest's order


def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduler for `-n N`: whole modules (notebooks) per worker, but for SPLIT_MODULES."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        """LoadScopeScheduling whose unit of work is a module, or one test of SPLIT_MODULES, taken in collection
        order (longest first), and a worker gets its next unit only when it is down to its last test."""

        def _split_scope(self, nodeid):
            path = nodeid.split("::")[0]
            return nodeid if Path(path).stem in SPLIT_MODULES else path

        def _reschedule(self, node):
            # a worker keeps its last test until it knows the next (or is told to stop), so 1 pending is "done"
            if not node.shutting_down and self.workqueue and self._pending_of(self.assigned_work[node]) > 1:
                return
            super()._reschedule(node)

    config.option.loadscopereorder = False  # keep the longest-first order above, not "most tests first"
    return ModuleScheduling(config, log)


def _summary():
    """{section title: [lines]} of what this process ran, read from the test modules it imported."""
    sections = {}
    browser = sys.modules.get("test_browser")
    if browser is not None and (browser.SKIP_REASON or browser.REPORT):
        sections["browser tier (Chromium, Playwright)"] = (
            [f"SKIPPED: {browser.SKIP_REASON}"] if browser.SKIP_REASON
            else list(browser.REPORT) + [f"screenshots of every widget: {browser.SCREENS}"])
    roundtrip = sys.modules.get("roundtrip")
    if roundtrip is not None and roundtrip.BAD_INPUT:
        sections["grading: bad input"] = list(roundtrip.BAD_INPUT)
    if roundtrip is not None and "test_roundtrip_chapters" in sys.modules:
        sections["nbgrader round trip"] = list(roundtrip.RAN)  # "c1_convolution (9 grade cells, ...)"
    return sections


_FROM_WORKERS = []


def pytest_sessionfinish(session):
    """On a pytest-xdist worker: hand this worker's summary to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["cnncourse_summary"] = _summary()


def pytest_testnodedown(node, error):
    """On the controller: keep each worker's summary (pytest-xdist's hook)."""
    _FROM_WORKERS.append(getattr(node, "workeroutput", {}).get("cnncourse_summary", {}))


def pytest_terminal_summary(terminalreporter):
    merged = {}
    for sections in [_summary()] + _FROM_WORKERS:
        for title, lines in sections.items():
            merged.setdefault(title, []).extend(line for line in lines if line not in merged.get(title, []))
    for title, lines in merged.items():
        if title == "nbgrader round trip":
            continue
        terminalreporter.section(title)
        for line in lines:
            terminalreporter.write_line(line)
    if "nbgrader round trip" not in merged:
        return
    from cnncourse.grading.course import REPO, load_course

    from roundtrip import PLANNED_CHAPTERS

    ran = sorted(merged["nbgrader round trip"])
    present = load_course(REPO / "autograder").chapters()
    terminalreporter.section("nbgrader round trip")
    terminalreporter.write_line(f"chapters graded end to end: {', '.join(ran) or 'none'}")
    absent = [c for c in PLANNED_CHAPTERS if c not in present]
    if absent:
        terminalreporter.write_line(f"planned chapters not in source/ (not tested): {', '.join(absent)}")
