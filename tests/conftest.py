"""Shared pytest hooks: say which chapters the nbgrader round trip covered, what the bad-input suite proved, and
what the browser tier checked (or why it was skipped)."""


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
