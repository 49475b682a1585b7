"""Where `make test`'s time goes, tier by tier, from the JUnit XML report that `make test` writes.

Usage: python tools/tier_times.py [build/test-report.xml]

Prints, for each tier (unit and oracle tests, round trips, nbval, grading, JAX, browser, Dask, ...), how many tests it
ran and the seconds they took, summed over the pytest-xdist workers. On two workers the tiers overlap, so the sums add
up to more than the run's wall time, which the last line gives (pytest's own figure, without the install).
"""

import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

# (tier, the test modules in it), first match wins; nbval items are the notebooks under solutions/
TIERS = (
    ("round trips (nbgrader, every chapter)", ("test_roundtrip_chapters",)),
    ("grading system (sandbox, bad input, tripwire, judge, class loop, feedback)",
     ("test_grade", "test_grade_bad_input", "test_grade_intake", "test_grade_references", "test_judge_red_team",
      "test_class_loop", "test_feedback")),
    ("Dask", ("test_grade_dask",)),
    ("JAX tier", ("test_jax_tier",)),
    ("browser (Chromium) and lab", ("test_browser", "test_lab")),
    ("student edition", ("test_student_edition",)),
    ("build reproducibility", ("test_build",)),
    ("install (pin resolution)", ("test_install",)),
)
NBVAL = "nbval (solutions/ executed)"
UNIT = "unit and oracle tests (make check)"
TRAININGS = "trainings that must reach a result"


def tier_of(classname, name, system_tests=()):
    """The tier of one JUnit test case.

    Args:
        classname: the case's classname attribute, e.g. "tests.test_grade" or "solutions.c1_convolution.c1_1_x.ipynb"
            (nbval); name: the test's name, e.g. "test_round_trip[c1_convolution]" or "Cell 4";
        system_tests: names of the unit modules' tests that are system tier (tests/conftest.py's SYSTEM_TESTS).
    Returns:
        str, one of the tier names of TIERS, NBVAL, TRAININGS or UNIT.
    """
    if classname.startswith("solutions.") or classname.endswith(".ipynb"):
        return NBVAL
    module = classname.split(".")[1] if classname.startswith("tests.") else classname.split(".")[0]
    for tier, modules in TIERS:
        if module in modules:
            return tier
    return TRAININGS if name.split("[")[0] in system_tests else UNIT


def tier_seconds(report, system_tests=()):
    """Read a JUnit XML report: ({tier: [count, seconds]}, the run's seconds or None)."""
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    totals = defaultdict(lambda: [0, 0.0])
    for case in root.iter("testcase"):
        entry = totals[tier_of(case.get("classname", ""), case.get("name", ""), system_tests)]
        entry[0] += 1
        entry[1] += float(case.get("time") or 0)
    wall = sum(float(s.get("time") or 0) for s in suites) if suites else None
    return dict(totals), wall


def main(argv):
    report = Path(argv[1] if len(argv) > 1 else "build/test-report.xml")
    if not report.is_file():
        sys.exit(f"{report}: no such report; `make test` writes it (pytest --junitxml)")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from conftest import SYSTEM_TESTS

    totals, wall = tier_seconds(report, SYSTEM_TESTS)
    width = max(len(t) for t in totals)
    for tier, (count, seconds) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        print(f"{tier:<{width}}  {count:5d} tests  {seconds / 60:6.1f} min")
    print(f"{'sum over the workers':<{width}}  {sum(c for c, _ in totals.values()):5d} tests  "
          f"{sum(s for _, s in totals.values()) / 60:6.1f} min")
    if wall:
        print(f"{'pytest wall time':<{width}}  {'':11}  {wall / 60:6.1f} min")


if __name__ == "__main__":
    main(sys.argv)
