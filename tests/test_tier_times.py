"""tools/tier_times.py: each JUnit case lands in its tier, and the tiers' seconds add up to the cases' seconds."""

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "tier_times.py"
spec = importlib.util.spec_from_file_location("tier_times", TOOL)
tier_times = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tier_times)

# (classname, name, seconds, tier) as pytest --junitxml writes them for this repository's tests
CASES = [
    ("tests.test_roundtrip_chapters", "test_round_trip[c1_convolution]", 120.5, "round trips (nbgrader, every chapter)"),
    ("tests.test_roundtrip_chapters", "test_round_trip[c2_classic_nets]", 150.25, "round trips (nbgrader, every chapter)"),
    ("solutions.c3_detection.c3_3_yolo.ipynb", "Cell 4", 124.0, tier_times.NBVAL),
    ("tests.test_ops", "test_conv_matches_tf[2-1]", 0.5, tier_times.UNIT),
    ("tests.test_c2_experiments", "test_depth_sweep_result_and_plot", 30.0, tier_times.TRAININGS),
    ("tests.test_grade_dask", "test_dask_gives_the_local_pools_grades", 41.0, "Dask"),
    ("tests.test_jax_tier", "test_every_bench_runs_at_grade_size", 180.0, "JAX tier"),
    ("tests.test_judge_red_team", "test_tampering_gains_nothing[k1]", 3.0,
     "grading system (sandbox, bad input, tripwire, judge, class loop, feedback)"),
]


@pytest.mark.parametrize("classname, name, seconds, tier", CASES)
def test_each_case_lands_in_its_tier(classname, name, seconds, tier):
    assert tier_times.tier_of(classname, name, {"test_depth_sweep_result_and_plot"}) == tier


def test_tier_seconds_add_up(tmp_path):
    cases = "".join(f'<testcase classname="{c}" name="{n}" time="{s}" />' for c, n, s, _ in CASES)
    report = tmp_path / "report.xml"
    report.write_text(f'<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="{len(CASES)}" '
                      f'time="600.5">{cases}</testsuite></testsuites>')
    totals, wall = tier_times.tier_seconds(report, {"test_depth_sweep_result_and_plot"})
    assert wall == 600.5
    assert sum(count for count, _ in totals.values()) == len(CASES)
    for tier in {t for *_, t in CASES}:
        want = [s for *_, s, t in CASES if t == tier]
        assert totals[tier][0] == len(want) and totals[tier][1] == pytest.approx(sum(want))
