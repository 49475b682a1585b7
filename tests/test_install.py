"""The installation: pins agree between pyproject.toml, environment.yml and what is installed; extensions enabled."""

import re
from pathlib import Path

from cnncourse.doctor import check_extensions, check_pins, pinned_requirements

REPO = Path(__file__).resolve().parent.parent


def environment_yml_pins():
    """The `name==version` lines of environment.yml's pip section, as {name: version}."""
    pins = {}
    for line in (REPO / "environment.yml").read_text().splitlines():
        match = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)==(\S+)\s*", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_environment_yml_and_pyproject_pin_the_same_packages():
    assert environment_yml_pins() == pinned_requirements()


def test_constraints_agree_with_pyproject():
    constraints = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        constraints[name.strip().lower().replace("_", "-")] = version.strip()
    for name, version in pinned_requirements().items():
        assert constraints.get(name.replace("_", "-")) == version, name


def test_installed_versions_are_the_pinned_ones():
    wrong = [message for ok, message in check_pins() if not ok]
    assert not wrong, wrong


def test_nbgrader_jupyterlab_and_server_extensions_are_enabled():
    results = list(check_extensions())
    assert len(results) == 5
    failed = [message for ok, message in results if not ok]
    assert not failed, failed
