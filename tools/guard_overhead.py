"""What the tripwire's guard on the checks' own functions costs the checks (issue 26).

Usage: CNNCOURSE_MODE=fast python tools/guard_overhead.py

Runs every hidden check of the six mistake corpora (tests/test_mistake_corpus_*.py) on its first correct alternative,
three times with the guard off and three times on (tripwire.guard_checks, as a grading kernel has it), alternating,
after one warm-up run; prints the best and every time of each. The checks call their own helpers through the guard's
wrapper, so this is its whole cost to a grading kernel's checks.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import test_stack_thief  # noqa: E402 -- the corpora's (name, hidden check, alternatives), from tests/

from cnncourse.grading import tripwire  # noqa: E402


def run_all(cases):
    """Seconds to run every hidden check, each looked up in its module as a notebook's grade cell does."""
    start = time.perf_counter()
    for check, right in cases:
        getattr(sys.modules[check.__module__], check.__name__)(right)
    return time.perf_counter() - start


def main():
    cases = [(check, rights[0]) for chapter in test_stack_thief.CHAPTERS
             for _, check, rights in test_stack_thief._corpus(chapter)]
    run_all(cases)  # warm-up: imports, TensorFlow's start, compilation
    off, on = [], []
    for _ in range(3):
        off.append(run_all(cases))
        tripwire.guard_checks()
        on.append(run_all(cases))
        tripwire.uninstall()
    print(f"{len(cases)} hidden checks: guard off {min(off):.2f} s, on {min(on):.2f} s (best of 3); "
          f"off {[round(x, 2) for x in off]}, on {[round(x, 2) for x in on]}")


if __name__ == "__main__":
    main()
