"""The grader's reading of a submission's own code (cnncourse/grading/code_scan.py), in both directions.

Every way of reaching past the exercises that the red team knows must be named: the tampering attacks of
tests/test_judge_red_team.py, and the routes to working code that the kernel still holds (a guard unwrapped, a closure
read, a module loaded again, the checks' memory read off the stack). No honest code may be: the course's own
notebooks (solutions, untouched releases, sources), the correct alternatives of the six mistake corpora, and every
typical mistake of the round trips (wrong, but honest).
"""

import copy
import importlib
import inspect
import textwrap
from pathlib import Path

import nbformat
import pytest

from cnncourse.grading.code_scan import Finding, flag_rows, scan_notebook
from mistakes import MISTAKES
from test_judge_red_team import ATTACKS

ROOT = Path(__file__).resolve().parent.parent
SETUP = ("import numpy as np\nfrom cnncourse.checks import c1_convolution as checks\n"
         "from cnncourse.ops.vectorized import conv_forward_vectorized")
DEMO = "from cnncourse.widgets import pool_explorer\npool_explorer(size=4)"


def _notebook(student_code, *, demo=DEMO):
    """A notebook like the course's: a locked import cell, a demonstration cell, and one solution cell holding
    `student_code`; returns (submitted notebook, the course's version of it)."""
    def cells(solution):
        return [{"cell_type": "code", "metadata": {"nbgrader": {"locked": True, "grade_id": "setup"}}, "source": SETUP},
                {"cell_type": "code", "metadata": {}, "source": DEMO},
                {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "answer"}},
                 "source": solution}]
    course = {"cells": cells("def conv_forward(A, W, b, hparameters):\n    raise NotImplementedError()")}
    submitted = {"cells": cells(student_code)}
    submitted["cells"][1]["source"] = demo
    return submitted, course


# Routes to working code or to the verdict, from a notebook; each needs a construct the scan names.
UNWRAPPING = {
    "reference_unwrapped": "import cnncourse.ops.conv\n"
                           "def conv_forward(A, W, b, hparameters):\n"
                           "    return cnncourse.ops.conv.conv_forward.__wrapped__(A, W, b, hparameters)",
    "twin_unwrapped": "def conv_forward(A, W, b, hparameters):\n"
                      "    return conv_forward_vectorized.__wrapped__(A, W, b, hparameters)",
    "getattr_literal": "def conv_forward(A, W, b, hparameters):\n"
                       "    return getattr(conv_forward_vectorized, '__wrapped__')(A, W, b, hparameters)",
    "getattr_spelled": "def conv_forward(A, W, b, hparameters):\n"
                       "    return getattr(conv_forward_vectorized, '__wr' + 'apped__')(A, W, b, hparameters)",
    "getattr_computed": "NAME = ''.join(chr(c) for c in (95, 95, 119, 114, 97, 112, 112, 101, 100, 95, 95))\n"
                        "def conv_forward(A, W, b, hparameters):\n"
                        "    return getattr(conv_forward_vectorized, NAME)(A, W, b, hparameters)",
    "vars_of_guard": "def conv_forward(A, W, b, hparameters):\n"
                     "    return [v for k, v in vars(conv_forward_vectorized).items() if 'wrapped' in k][0](A, W, b, hparameters)",
    "closure_cell": "def conv_forward(A, W, b, hparameters):\n"
                    "    return conv_forward_vectorized.__closure__[1].cell_contents(A, W, b, hparameters)",
    "private_oracle": "def conv_forward(A, W, b, hparameters):\n"
                      "    return checks._conv_oracle_numpy(A, W, b, hparameters)",
    "module_reloaded": "import importlib\n"
                       "twins = importlib.import_module('cnncourse.ops.vectorized')\n"
                       "fresh = importlib.reload(twins)",
    "source_executed": "namespace = {}\n"
                       "exec(open(np.__file__.replace('numpy', 'cnncourse/ops')).read(), namespace)",
    "inspect_unwrap": "from inspect import unwrap\n"
                      "def conv_forward(A, W, b, hparameters):\n"
                      "    return unwrap(conv_forward_vectorized)(A, W, b, hparameters)",
    "stack_read": "import sys\n"
                  "def conv_forward(A, W, b, hparameters):\n"
                  "    return sys._getframe(1).f_locals['want']",
    "dunder_import": "def conv_forward(A, W, b, hparameters):\n"
                     "    return __import__('cnncourse.ops.vectorized').ops.vectorized.conv_forward_vectorized(A, W, b, "
                     "hparameters)",
    "twin_imported": "from cnncourse.ops.vectorized import conv_forward_vectorized as fast\n"
                     "conv_forward = fast",
    "attrgetter": "from operator import attrgetter\n"
                  "unwrapped = attrgetter('__wrapped__')(conv_forward_vectorized)",
    "globals_rebound": "globals()['checks'] = None",
    "checks_rebound": "checks = type('Anything', (), {'__getattr__': lambda self, name: print})()",
    "global_statement": "def conv_forward(A, W, b, hparameters):\n"
                        "    global checks\n"
                        "    checks = None",
    "numpy_patched_in_body": "def conv_forward(A, W, b, hparameters):\n"
                             "    np.allclose = lambda *a, **k: True\n"
                             "    return 0",
    "class_attribute_patched": "checks.PartialCredit.total = lambda self: 99",
    "magic_line": "%run -i /tmp/forge.py\n"
                  "def conv_forward(A, W, b, hparameters):\n"
                  "    return 0",
    "shell_command": "!rm -rf ~/.cnncourse-evidence",
    "comparing_class": "class Anything(float):\n"
                       "    def __eq__(self, other):\n"
                       "        return True\n"
                       "def conv_forward(A, W, b, hparameters):\n"
                       "    return Anything(0)",
    "ipython_hook": "get_ipython().events.register('post_run_cell', print)",
    "subclass_walk": "loaders = ().__class__.__base__.__subclasses__()",
    "sys_through_a_module": "guarded = np.sys.modules['numpy']",
    "os_through_a_module": "home = np.lib.os.environ",
    "pickle_payload": "blob = b'cnumpy\\nsys\\n'\nloaded = np.load('payload.npy', allow_pickle=True)",
    "getattr_handed_on": "from functools import reduce\n"
                         "NAME = ''.join(chr(c) for c in (95, 95, 119, 114, 97, 112, 112, 101, 100, 95, 95))\n"
                         "unwrapped = reduce(getattr, [NAME], conv_forward_vectorized)",
    "match_class_pattern": "match conv_forward_vectorized:\n"
                           "    case object(__wrapped__=inner):\n"
                           "        conv_forward = inner",
    "traceback_frames": "import traceback\nframes = list(traceback.walk_stack(None))",
    "unsafe_keras_switch": "import keras\nkeras.config.enable_unsafe_deserialization()",
    "patched_through_an_alias": "m = checks\nm.hidden_conv_forward = print",
    "unsafe_keras_load": "import keras\nmodel = keras.saving.load_model('m.keras', safe_mode=False)",
}


@pytest.mark.parametrize("name", sorted(UNWRAPPING))
def test_every_route_past_the_exercises_is_named(name):
    submitted, course = _notebook(UNWRAPPING[name])
    findings = scan_notebook(submitted, course)
    assert findings, f"{name}: not found"
    assert all(isinstance(f, Finding) and f.cell == "answer" and f.line >= 1 and f.why for f in findings), findings


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_red_team_attack_is_named(attack):
    submitted, course = _notebook(ATTACKS[attack])
    assert scan_notebook(submitted, course), f"{attack}: the scan names nothing"


def test_a_demonstration_cell_changed_in_one_statement_is_read_in_that_statement_only():
    """The demo cell imports the course's package; a student who changes its argument is not flagged for that import,
    but an import added to it is."""
    honest, course = _notebook("def conv_forward(A, W, b, hparameters):\n    return 0",
                               demo=DEMO.replace("size=4", "size=6"))
    assert scan_notebook(honest, course) == []
    added, course = _notebook("def conv_forward(A, W, b, hparameters):\n    return 0",
                              demo=DEMO + "\nfrom cnncourse.ops.twins import box_iou")
    assert [f.cell for f in scan_notebook(added, course)] == ["cell 2"]
    assert scan_notebook(honest, None), "without the course's version every cell is the student's"


def test_a_cell_that_does_not_parse_runs_nothing_and_is_not_read():
    submitted, course = _notebook("def conv_forward(A, W, b, hparameters)\n    import sys")
    assert scan_notebook(submitted, course) == []


def _course_notebooks(folder):
    paths = sorted((ROOT / folder).glob("*/*.ipynb"))
    assert len(paths) >= 12, f"{folder}: fewer notebooks than the course has"
    return paths


@pytest.mark.parametrize("folder", ["solutions", "release", "source"])
def test_the_courses_own_notebooks_are_not_flagged(folder):
    for path in _course_notebooks(folder):
        nb = nbformat.read(str(path), as_version=4)
        course = nbformat.read(str(ROOT / "source" / path.parent.name / path.name), as_version=4)
        assert scan_notebook(nb, course) == [], path


def test_no_typical_mistake_of_the_round_trips_is_flagged():
    """Wrong code is not suspicious code: every substitution of tests/mistakes.py, in its source notebook."""
    sources = {}
    for mistake in MISTAKES:
        path = ROOT / "source" / mistake.chapter / f"{mistake.notebook}.ipynb"
        course = sources.setdefault(path, nbformat.read(str(path), as_version=4))
        nb = copy.deepcopy(course)
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == mistake.cell_grade_id)
        assert cell.source.count(mistake.old) == 1, mistake
        cell.source = cell.source.replace(mistake.old, mistake.new)
        assert scan_notebook(nb, course) == [], mistake
    assert len(MISTAKES) >= 20


def test_no_correct_alternative_of_the_corpora_is_flagged():
    """Vectorised versions, einsum, other idioms: each alternative's source as a solution cell of a course-like notebook
    whose locked cell imports what the corpora's modules import."""
    count = 0
    for chapter in range(1, 7):
        module = importlib.import_module(f"test_mistake_corpus_c{chapter}")
        for name, functions in module.ALTERNATIVES.items():
            for function in functions:
                submitted, course = _notebook(textwrap.dedent(inspect.getsource(function)))
                assert scan_notebook(submitted, course) == [], (chapter, name, function.__name__)
                count += 1
    assert count >= 54


def test_flag_rows_name_the_first_findings_and_count_the_rest():
    findings = [Finding("answer", line, "import sys", "why") for line in range(1, 8)]
    (row,) = flag_rows("c1_1", findings, most=5)
    assert row[:2] == ["c1_1", "c1_1:code"]
    assert "answer, line 5: import sys" in row[2] and "line 6" not in row[2] and "and 2 more" in row[2]
    assert "changes no score" in row[2]
    assert flag_rows("c1_1", []) == []


def test_metadata_that_claims_a_cell_is_the_courses_is_not_trusted():
    """nbgrader's metadata can be edited outside JupyterLab: a student's cell marked locked is read all the same."""
    submitted, course = _notebook("def conv_forward(A, W, b, hparameters):\n    return 0")
    submitted["cells"].append({"cell_type": "code", "metadata": {"nbgrader": {"locked": True, "grade_id": "setup2"}},
                               "source": "import sys"})
    assert [(f.cell, f.what) for f in scan_notebook(submitted, course)] == [("setup2", "import sys")]
