"""The runner of a chapter's mistake corpus (issue 26), written once: `corpus_tests` returns the four test functions
that a tests/test_mistake_corpus_<chapter>.py binds to module-level names, so that pytest collects them there.

    (test_each_mistake_fails_the_hidden_check_and_the_public_one, test_each_correct_alternative_passes_both_checks,
     test_the_corpus_has_three_mistakes_and_one_alternative_per_graded_function,
     test_hidden_failures_name_the_likely_mistake) = corpus_tests(CHECKS, MISTAKES, ALTERNATIVES, HINTS)

CHECKS maps a graded function's name to the checks module that holds public_<name> and hidden_<name>; MISTAKES maps
it to [(mistake, the public check must fail too)], ALTERNATIVES to [correct alternative]; HINTS maps a mistake to
what its hidden failure's message must say.
"""

import pytest

from cnncourse.checks.core import CheckFailed


def fails(check, fn):
    """How check(fn) failed, or None when it passed; a CheckFailed must say what was expected ("expected ..." or
    "... must ...")."""
    try:
        check(fn)
    except CheckFailed as err:
        assert "expected" in str(err) or " must " in str(err), str(err)
        return str(err)
    except Exception as err:  # noqa: BLE001 - raised inside the student's own code
        return f"{type(err).__name__}: {err}"
    return None


def corpus_tests(checks, mistakes, alternatives, hints):
    """The corpus's four tests (see the module docstring), parametrised by its lists."""
    mistake_cases = [(name, fn, public) for name, cases in mistakes.items() for fn, public in cases]
    alternative_cases = [(name, fn) for name, cases in alternatives.items() for fn in cases]
    hint_cases = [(name, fn) for name, fn, _ in mistake_cases if fn in hints]

    def check(kind, name):
        return getattr(checks[name], f"{kind}_{name}")

    @pytest.mark.parametrize("name, wrong, public", mistake_cases,
                             ids=[f"{n}-{f.__name__}" for n, f, _ in mistake_cases])
    def test_each_mistake_fails_the_hidden_check_and_the_public_one(name, wrong, public):
        assert fails(check("hidden", name), wrong) is not None, f"{wrong.__name__} passed hidden_{name}"
        if public:
            assert fails(check("public", name), wrong) is not None, f"{wrong.__name__} passed public_{name}"

    @pytest.mark.parametrize("name, right", alternative_cases, ids=[f"{n}-{f.__name__}" for n, f in alternative_cases])
    def test_each_correct_alternative_passes_both_checks(name, right):
        assert fails(check("public", name), right) is None
        assert fails(check("hidden", name), right) is None

    def test_the_corpus_has_three_mistakes_and_one_alternative_per_graded_function():
        assert set(mistakes) == set(alternatives) == set(checks)
        assert all(len(mistakes[name]) >= 3 and len(alternatives[name]) >= 1 for name in checks)

    @pytest.mark.parametrize("name, wrong", hint_cases, ids=[f"{n}-{f.__name__}" for n, f in hint_cases])
    def test_hidden_failures_name_the_likely_mistake(name, wrong):
        message = fails(check("hidden", name), wrong)
        assert hints[wrong] in message, message

    return (test_each_mistake_fails_the_hidden_check_and_the_public_one,
            test_each_correct_alternative_passes_both_checks,
            test_the_corpus_has_three_mistakes_and_one_alternative_per_graded_function,
            test_hidden_failures_name_the_likely_mistake)


def judged(tmp_path, checks, name, fn, points=2.0, kernel_patches=None):
    """Run the grade cell of graded function `name` (its public and hidden check) on `fn` as a grading kernel does,
    recording to tmp_path, then judge it outside the kernel (grading/judge.py). kernel_patches ({attribute: value}):
    names of the checks module replaced for the kernel's run only, as a notebook could tamper with them.

    Returns:
        (the kernel's exception or None when the cell passed there, the judge's Verdict).
    """
    from cnncourse.grading import evidence, judge

    cell = f"checks.public_{name}({name})\nchecks.hidden_{name}({name})"
    recorder = evidence._Recorder(tmp_path)
    recorder.start_cell(cell)
    recorded = type("RecordedChecks", (), {n: evidence._recording(getattr(checks, n), recorder)
                                           for n in dir(checks) if n.startswith(evidence.CHECK_PREFIXES)})
    kernel_error, saved = None, {attribute: getattr(checks, attribute) for attribute in kernel_patches or {}}
    try:
        for attribute, value in (kernel_patches or {}).items():
            setattr(checks, attribute, value)
        exec(cell, {"checks": recorded, name: fn})  # noqa: S102 -- the grade cell, as a kernel runs it
    except Exception as err:  # noqa: BLE001
        kernel_error = err
    finally:
        for attribute, value in saved.items():
            setattr(checks, attribute, value)
    verdict = judge.judge_cell(cell, points, {"__builtins__": __builtins__, "checks": checks},
                               judge.Evidence(tmp_path), name)
    return kernel_error, verdict
