"""`cnncourse lab`: JupyterLab for self-study, on release/, with the student's options passed through.

What it adds to a plain `jupyter lab --notebook-dir=release`:
- options after `lab` (or after `--`) go to JupyterLab unchanged: `cnncourse lab --no-browser --port 8899
  --ip 127.0.0.1`; a `--notebook-dir` of the user's replaces release/;
- as root (a container), `--allow-root`, which JupyterLab otherwise demands without saying it to a student;
- the kernels' environment keeps TensorFlow's info logs out of the cells (TF_CPP_MIN_LOG_LEVEL=2, the setting
  with which solutions/ was built); the oneDNN notice, which no setting silences, is kept out by the kernel
  configuration that the Makefile installs (cnncourse/jupyter/ipython_kernel_config.json);
- the configuration folder SELF_STUDY_CONFIG (first on JUPYTER_CONFIG_PATH): nbgrader's instructor tools
  (formgrader, create assignment) and its exchange views (assignment and course lists, which can only show
  errors without a class exchange) are switched off, Validate stays; Jupyter's news pop-up is switched off;
- the notebooks of solutions/ are marked trusted in the user's notary, so their saved widget views render:
  JupyterLab shows a widget output of an untrusted notebook as its text repr (`Explorer(children=...`).
  `make formgrader` starts JupyterLab without this folder, with the instructor tools.
"""

import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SELF_STUDY_CONFIG = Path(__file__).resolve().parent / "jupyter"
# options that choose the folder JupyterLab opens: given one, release/ is not passed (Jupyter takes one value)
_ROOT_OPTION = re.compile(r"^--(notebook-dir|(ServerApp|NotebookApp)\.(root_dir|notebook_dir))(=|$)")
QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def jupyter_options(args):
    """The options meant for JupyterLab: `args` without a `--` separator (the first one is dropped)."""
    args = list(args)
    if "--" in args:
        args.remove("--")
    return args


def lab_command(args, repo=REPO, environ=None, is_root=None):
    """The JupyterLab command line, its environment and the notes to print before starting it.

    Args:
        args: options for JupyterLab as typed after `cnncourse lab` (a `--` separator is allowed).
        repo: the repository whose release/ is opened.
        environ: the environment to start from (default: os.environ); it is copied, never changed.
        is_root: whether this process runs as root (default: the effective user id is 0).
    Returns:
        (cmd list, env dict, notes list of str).
    """
    options = jupyter_options(args)
    env = dict(os.environ if environ is None else environ)
    for key, value in QUIET_TENSORFLOW.items():
        env.setdefault(key, value)
    config_path = [str(SELF_STUDY_CONFIG)] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(config_path)
    notes = []
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and "--allow-root" not in options:
        options.append("--allow-root")
        notes.append("running as root (a container?): JupyterLab is started with --allow-root. From another machine, "
                     "add --no-browser --ip 0.0.0.0 and open the URL with the token that JupyterLab prints.")
    folder = [] if any(_ROOT_OPTION.match(o) for o in options) else [f"--notebook-dir={Path(repo) / 'release'}"]
    cmd = [sys.executable, "-m", "jupyter", "lab", *folder, *options]
    return cmd, env, notes


def trust_solutions(repo=REPO, data_dir=None):
    """Mark the executed notebooks of solutions/ as trusted in the notary of Jupyter's data folder (`data_dir`,
    default: JUPYTER_DATA_DIR or the user's, as JupyterLab finds it).

    Trust is keyed by the notebook's content, so a copy of an unchanged solutions notebook is trusted too; an
    edited one is not. Returns the number of notebooks signed.
    """
    import nbformat
    from jupyter_core.paths import jupyter_data_dir
    from nbformat.sign import NotebookNotary

    data_dir = Path(data_dir or jupyter_data_dir())
    data_dir.mkdir(parents=True, exist_ok=True)  # a fresh machine has none; the notary cannot create it
    notary = NotebookNotary(data_dir=str(data_dir))
    signed = 0
    for path in sorted(Path(repo, "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        if not notary.check_signature(nb):
            notary.sign(nb)
        signed += 1
    return signed


def lab(args, repo=REPO):
    """Start JupyterLab for self-study (see the module's docstring); on POSIX this process becomes JupyterLab
    (exec), elsewhere it waits for it and returns its exit status."""
    import subprocess

    cmd, env, notes = lab_command(args, repo=repo)
    for note in notes:
        print(f"cnncourse lab: {note}", file=sys.stderr)
    try:  # the notary lives in Jupyter's data folder (JUPYTER_DATA_DIR), the one JupyterLab will read
        trust_solutions(repo)
    except Exception as err:  # noqa: BLE001 - the course still opens; saved widget views show as text
        print(f"cnncourse lab: could not mark solutions/ as trusted ({err}); their widgets show after a re-run",
              file=sys.stderr)
    if hasattr(os, "execve"):  # become JupyterLab: its PID is this one, so a signal to it stops the server itself
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)
    return subprocess.call(cmd, env=env)
