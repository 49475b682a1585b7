"""Shared pytest hooks: say which chapters the nbgrader round trip covered, and what the bad-input suite proved."""


def pytest_terminal_summary(terminalreporter):
    import sys

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
