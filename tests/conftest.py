"""Shared pytest hooks: say which chapters the nbgrader round trip covered, what the bad-input suite proved, and
what the browser tier checked (or why it was skipped)."""


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


def pytest_configure(config):
    config.addinivalue_line("markers", "system: runs a whole system (nbgrader, notebooks, a browser, Dask, pip); "
                                       "left out by `make check`")


def pytest_collection_modifyitems(config, items):
    """Mark the system tier (SYSTEM_MODULES, SYSTEM_TESTS) and every executed notebook (nbval) with `system`."""
    for item in items:
        module = getattr(item, "module", None)
        name = module.__name__.rpartition(".")[2] if module is not None else ""
        if name in SYSTEM_MODULES or item.name.split("[")[0] in SYSTEM_TESTS or str(item.fspath).endswith(".ipynb"):
            item.add_marker(pytest.mark.system)


def pytest_terminal_summary(terminalreporter):
    import sys

    browser = sys.modules.get("test_browser")
    if browser is not None:
        terminalreporter.section("browser tier (Chromium, Playwright)")
        if browser.SKIP_REASON:
            terminalreporter.write_line(f"SKIPPED: {browser.SKIP_REASON}")
        else:
            for line in browser.REPORT:
                terminalreporter.write_line(line)
            terminalreporter.write_line(f"screenshots of every widget: {browser.SCREENS}")
    roundtrip = sys.modules.get("roundtrip")
    if roundtrip is not None and roundtrip.BAD_INPUT:
        terminalreporter.section("grading: bad input")
        for line in roundtrip.BAD_INPUT:
            terminalreporter.write_line(line)
    if roundtrip is None or "test_roundtrip_chapters" not in " ".join(sys.modules):
        return
    from cnncourse.grading.course import REPO, load_course

    present = load_course(REPO / "autograder").chapters()
    terminalreporter.section("nbgrader round trip")
    terminalreporter.write_line(f"chapters graded end to end: {', '.join(roundtrip.RAN) or 'none'}")
    absent = [c for c in roundtrip.PLANNED_CHAPTERS if c not in present]
    if absent:
        terminalreporter.write_line(f"planned chapters not in source/ (not tested): {', '.join(absent)}")
