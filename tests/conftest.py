"""Shared pytest hooks: the test tiers (`system` for `make test` only), the groups that pytest-xdist keeps on one worker,
and the summary of what the nbgrader round trip covered, what the bad-input suite proved and what the browser tier
checked (or why it was skipped), gathered from every worker."""

import sys

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
    "test_plain_vs_residual_result_and_plot", "test_style_transfer_lowers_the_style_cost_and_keeps_pixels_in_range",
}

# Parallel runs (`pytest -n 2 --dist loadgroup`, as `make test` does): every module is one xdist group, so that its
# module-scoped fixtures (a graded class, a JupyterLab server, a Dask cluster) are made once, on one worker, and
# every notebook's nbval cells run in order in one kernel. These modules' tests share nothing costly and are each
# long (a chapter's round trip, a notebook under JAX), so they are spread over the workers one by one.
SPLIT_MODULES = {"test_roundtrip_chapters", "test_jax_tier", "test_student_edition", "test_build"}


def pytest_configure(config):
    config.addinivalue_line("markers", "system: runs a whole system (nbgrader, notebooks, a browser, Dask, pip); "
                                       "left out by `make check`")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers
def pytest_collection_modifyitems(config, items):
    """Mark the system tier (SYSTEM_MODULES, SYSTEM_TESTS, every executed notebook) with `system`, and put each
    module (each notebook, for nbval) in its own xdist group but for SPLIT_MODULES."""
    for item in items:
        module = getattr(item, "module", None)
        name = module.__name__.rpartition(".")[2] if module is not None else ""
        notebook = str(item.fspath).endswith(".ipynb")
        if name in SYSTEM_MODULES or item.name.split("[")[0] in SYSTEM_TESTS or notebook:
            item.add_marker(pytest.mark.system)
        if name not in SPLIT_MODULES:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


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
