"""Run code on every module of cnncourse.checks as soon as it has been imported, in a grading kernel.

Two parts of the kernel's set-up act on the checks modules, including those the notebook imports later: the
recorder (evidence.py) wraps each check so that its calls are recorded, and the tripwire (tripwire.py) guards the
checks' own functions against calls from notebook code. One finder serves both: two finders of their own would each
claim the module, and only the first in sys.meta_path would act.
"""

import importlib.abc
import importlib.machinery
import sys

CHECKS_PACKAGE = "cnncourse.checks"
_CALLBACKS = []  # callback(module) for each module of the checks once it has run, in the order they were added


class _ChecksFinder(importlib.abc.MetaPathFinder):
    """Finds cnncourse.checks.* as the path finder does, and runs the callbacks on each module once it has run."""

    def find_spec(self, name, path, target=None):
        if not name.startswith(CHECKS_PACKAGE + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            for callback in list(_CALLBACKS):
                callback(module)

        spec.loader.exec_module = exec_module  # this module's loader object only
        return spec


def loaded_checks_modules():
    """The modules of cnncourse.checks imported so far (not the package itself)."""
    return [module for name, module in list(sys.modules.items())
            if module is not None and name.startswith(CHECKS_PACKAGE + ".")]


def on_checks_import(callback):
    """Call callback(module) now for each checks module imported already, and later for each one imported then
    (once, however often the same callback is added)."""
    if not any(isinstance(finder, _ChecksFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ChecksFinder())
    if callback not in _CALLBACKS:
        _CALLBACKS.append(callback)
    for module in loaded_checks_modules():
        callback(module)


def remove(callback):
    """Stop calling `callback` on later imports; the finder goes when no callback is left (for tests)."""
    if callback in _CALLBACKS:
        _CALLBACKS.remove(callback)
    if not _CALLBACKS:
        sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _ChecksFinder)]
