"""`cnncourse lab`: options pass through to JupyterLab, root gets --allow-root, TensorFlow is quiet, and the
self-study configuration hides nbgrader's instructor tools (but not Validate) and Jupyter's news. The environment's
kernel configuration keeps what C/C++ libraries print (TensorFlow's oneDNN notice) out of the cells."""

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

from cnncourse import cli, lab as lab_module
from cnncourse.lab import SELF_STUDY_CONFIG, jupyter_options, lab_command, trust_solutions

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("argv", [
    ["lab", "--no-browser", "--port", "8899", "--ip", "127.0.0.1"],
    ["lab", "--", "--no-browser", "--port", "8899", "--ip", "127.0.0.1"],
])
def test_options_after_lab_reach_jupyterlab_unchanged(argv, monkeypatch):
    seen = []
    monkeypatch.setattr(lab_module, "lab", lambda args: seen.append(list(args)) or 0)
    assert cli.main(argv) == 0
    assert jupyter_options(seen[0]) == ["--no-browser", "--port", "8899", "--ip", "127.0.0.1"]
    cmd, _, _ = lab_command(seen[0], repo=REPO, environ={}, is_root=False)
    assert cmd[:4] == [sys.executable, "-m", "jupyter", "lab"] and "--" not in cmd
    assert cmd[4:] == [f"--notebook-dir={REPO / 'release'}", "--no-browser", "--port", "8899", "--ip", "127.0.0.1"]


def test_other_commands_still_refuse_unknown_options(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["build", "--no-browser"])
    assert stop.value.code == 2 and "unrecognized arguments: --no-browser" in capsys.readouterr().err


def test_root_gets_allow_root_and_is_told_so():
    cmd, _, notes = lab_command([], repo=REPO, environ={}, is_root=True)
    assert cmd.count("--allow-root") == 1 and any("--allow-root" in note for note in notes)
    cmd, _, notes = lab_command(["--allow-root"], repo=REPO, environ={}, is_root=True)
    assert cmd.count("--allow-root") == 1 and not notes
    cmd, _, notes = lab_command([], repo=REPO, environ={}, is_root=False)
    assert "--allow-root" not in cmd and not notes


def test_a_folder_of_the_users_replaces_release():
    for option in ("--notebook-dir=/tmp/mine", "--ServerApp.root_dir=/tmp/mine"):
        cmd, _, _ = lab_command([option], repo=REPO, environ={}, is_root=False)
        assert not any(str(REPO / "release") in part for part in cmd) and option in cmd


def test_kernels_inherit_a_quiet_tensorflow_and_the_self_study_configuration():
    _, env, _ = lab_command([], repo=REPO, environ={"JUPYTER_CONFIG_PATH": "/elsewhere"}, is_root=False)
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert "TF_ENABLE_ONEDNN_OPTS" not in env  # oneDNN stays on: twice as fast on a CPU, its notice kept out otherwise
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(SELF_STUDY_CONFIG), "/elsewhere"]
    _, env, _ = lab_command([], repo=REPO, environ={"TF_CPP_MIN_LOG_LEVEL": "0"}, is_root=False)
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "0"  # a user's own choice is kept


def test_kernels_keep_low_level_output_out_of_the_cells():
    """The Makefile installs cnncourse/jupyter/ipython_kernel_config.json where IPython reads it for every kernel of
    this environment; a write to file descriptor 2 (what TensorFlow's C++ does with its oneDNN notice) then reaches
    the kernel's log, not the cell, while Python's own output and errors still do."""
    from nbclient import NotebookClient

    from cnncourse.doctor import check_kernel_config

    [(installed, message)] = check_kernel_config(sys.prefix)  # present and equal to the course's file
    assert installed, message
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys\nos.write(2, b'low-level notice\\n')\nprint('python output')\nprint('python error', file=sys.stderr)")])
    NotebookClient(nb, timeout=60, kernel_name="python3", shutdown_kernel="immediate").execute()
    texts = {o.get("name"): o.get("text", "") for o in nb.cells[0].outputs}
    assert texts.get("stdout", "").strip() == "python output", nb.cells[0].outputs
    assert texts.get("stderr", "").strip() == "python error", nb.cells[0].outputs


def test_self_study_configuration_names_real_nbgrader_parts_and_keeps_validate():
    labextension = Path(sys.prefix, "share", "jupyter", "labextensions", "@jupyter", "nbgrader")
    bundle = " ".join(p.read_text(errors="replace") for p in labextension.glob("static/*.js"))
    disabled = json.loads((SELF_STUDY_CONFIG / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    missing = [plugin for plugin in disabled if f'id:"{plugin}"' not in bundle and f"'{plugin}'" not in bundle
               and f'"{plugin}"' not in bundle]
    assert bundle and not missing, f"no such nbgrader JupyterLab plugin(s): {missing}"
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
            "@jupyter/nbgrader:assignment-list"} <= set(disabled)
    assert not any("validate" in plugin for plugin in disabled)

    server = json.loads((SELF_STUDY_CONFIG / "jupyter_server_config.json").read_text())["ServerApp"]
    installed = json.loads(Path(sys.prefix, "etc", "jupyter", "jupyter_server_config.d", "nbgrader.json").read_text())
    known = set(installed["ServerApp"]["jpserver_extensions"])
    off = server["jpserver_extensions"]
    assert set(off) <= known and not any(off.values()) and "nbgrader.server_extensions.validate_assignment" not in off

    news = json.loads((SELF_STUDY_CONFIG / "labconfig" / "default_setting_overrides.json").read_text())
    schema = Path(sys.prefix, "share", "jupyter", "lab", "schemas", "@jupyterlab", "apputils-extension",
                  "notification.json")
    properties = json.loads(schema.read_text())["properties"]
    setting = news["@jupyterlab/apputils-extension:notification"]
    assert set(setting) <= set(properties) and setting["fetchNews"] == "false"


def test_solutions_are_trusted_by_content(tmp_path):
    repo = tmp_path / "repo"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<b>2</b>"})]
    (repo / "solutions" / "c0").mkdir(parents=True)
    nbformat.write(nb, str(repo / "solutions" / "c0" / "part.ipynb"))

    from nbformat.sign import NotebookNotary

    data = tmp_path / "fresh" / "data"  # not there yet, as on a fresh machine
    assert trust_solutions(repo, data_dir=data) == 1
    notary = NotebookNotary(data_dir=str(data))
    assert notary.check_signature(nbformat.read(str(repo / "solutions" / "c0" / "part.ipynb"), as_version=4))
    nb.cells[0].source = "2 + 2"  # an edited copy is not trusted
    assert not notary.check_signature(nb)
    other = tmp_path / "other"
    other.mkdir()
    saved = nbformat.read(str(repo / "solutions" / "c0" / "part.ipynb"), as_version=4)
    assert not NotebookNotary(data_dir=str(other)).check_signature(saved)  # trust is the notary's, not the file's
