"""cnncourse/preflight.py and the Makefile's install choices: the GPU install stops, saying why, before anything is
installed where no NVIDIA driver answers; an unsupported Python is named with the versions that are; GPU takes 0 or
1; the environment's stamp changes with the install type and the interpreter."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cnncourse import preflight

REPO = Path(__file__).resolve().parent.parent
PREFLIGHT = REPO / "cnncourse" / "preflight.py"


def path_without_nvidia_smi():
    """This PATH less every folder that holds an nvidia-smi."""
    return os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "nvidia-smi").exists())


def fake_nvidia_smi(folder, stdout, status=0):
    """Write an executable `nvidia-smi` into folder that prints stdout and exits with status; return the folder."""
    script = Path(folder) / "nvidia-smi"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{stdout}\nEOF\nexit {status}\n")
    script.chmod(0o755)
    return str(folder)


def run_preflight(*args, path):
    """Run preflight.py as the Makefile does (a plain script, this interpreter) with PATH=path."""
    return subprocess.run([sys.executable, str(PREFLIGHT), *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "PATH": path}, timeout=120)


def test_gpu_check_without_nvidia_smi_says_what_was_found_and_what_to_do():
    done = run_preflight("--gpu", path=path_without_nvidia_smi())
    assert done.returncode == 2, done
    assert "no NVIDIA driver found (no nvidia-smi on PATH)" in done.stderr
    assert "Nothing was installed" in done.stderr
    assert "Use the CPU install instead" in done.stderr and "install the NVIDIA driver" in done.stderr


def test_gpu_check_passes_with_a_driver_that_lists_a_gpu(tmp_path):
    folder = fake_nvidia_smi(tmp_path, "NVIDIA H100 80GB HBM3, 550.54.15")
    done = run_preflight("--gpu", path=folder + os.pathsep + path_without_nvidia_smi())
    assert done.returncode == 0, done
    assert "NVIDIA driver: NVIDIA H100 80GB HBM3, 550.54.15" in done.stdout
    assert "supported" in done.stdout


def test_gpu_check_fails_when_nvidia_smi_cannot_reach_the_driver(tmp_path):
    message = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    folder = fake_nvidia_smi(tmp_path, message, status=9)
    done = run_preflight("--gpu", path=folder + os.pathsep + path_without_nvidia_smi())
    assert done.returncode == 2, done
    assert "found no working NVIDIA driver or GPU" in done.stderr and message in done.stderr


def test_cpu_install_needs_no_driver():
    done = run_preflight(path=path_without_nvidia_smi())
    assert done.returncode == 0, done
    assert "NVIDIA" not in done.stdout


@pytest.mark.parametrize("version", [(3, 10, 13), (3, 14, 0), (2, 7, 18)])
def test_unsupported_python_is_named_with_the_supported_ones(version):
    with pytest.raises(preflight.PreflightError) as caught:
        preflight.check_python(version)
    found = ".".join(map(str, version))
    assert f"Python {found}" in str(caught.value) and "Python 3.11, 3.12 or 3.13" in str(caught.value)


@pytest.mark.parametrize("version", [(3, 11, 7), (3, 12, 1), (3, 13, 0)])
def test_supported_pythons_pass(version):
    assert "supported" in preflight.check_python(version)


def test_unknown_argument_is_refused_saying_what_is_expected(capsys):
    assert preflight.main(["--cuda"]) == 2
    assert "expected none (the CPU install) or --gpu" in capsys.readouterr().err


def test_preflight_imports_nothing_from_the_package():
    """It runs with the system Python before the venv exists: standard library only."""
    imports = [line for line in PREFLIGHT.read_text().splitlines() if line.startswith(("import ", "from "))]
    assert imports and all(line.split()[1].split(".")[0] in sys.stdlib_module_names for line in imports), imports


def make(*args, path=None):
    """Run make in the repository with args (and PATH=path when given); return the CompletedProcess."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHON", "VENV", "GPU", "MAKEFLAGS")}
    env["PATH"] = path or os.environ["PATH"]
    return subprocess.run([shutil.which("make"), "--no-print-directory", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, check=False, timeout=120)


def test_make_gpu_without_a_driver_stops_before_installing_anything(tmp_path):
    venv = tmp_path / "venv"
    done = make("check", "GPU=1", f"PYTHON={sys.executable}", f"VENV={venv}", path=path_without_nvidia_smi())
    assert done.returncode != 0, done
    assert "no NVIDIA driver found" in done.stderr
    assert not venv.exists(), "the virtual environment was created before the driver check"


@pytest.mark.parametrize("value", ["2", "yes", "cuda"])
def test_make_refuses_a_gpu_value_other_than_0_or_1(value, tmp_path):
    done = make("check", f"GPU={value}", f"VENV={tmp_path / 'venv'}")
    assert done.returncode != 0
    assert f"GPU={value} is not an install type: expected GPU=0" in done.stderr and "GPU=1" in done.stderr


def test_make_without_a_supported_python_on_path_names_the_supported_versions(tmp_path):
    """PATH offers a python3 that fails (as a pyenv shim does for a version not selected) and the tools make needs."""
    for tool in ("cat", "cksum", "cut"):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    for name in ("python3", "python3.12"):
        (tmp_path / name).write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
        (tmp_path / name).chmod(0o755)
    done = make("check", f"VENV={tmp_path / 'venv'}", path=str(tmp_path))
    assert done.returncode != 0
    assert "No supported Python found" in done.stderr, done.stderr
    assert "Python 3.11, 3.12 or 3.13" in done.stderr and "PYTHON=/path/to/python3.12" in done.stderr
    assert not (tmp_path / "venv").exists()


def stamp(*args):
    """The stamp file `make check` would build the environment towards, read from make's dry run."""
    done = make("-n", "check", *args)
    return re.search(r"\S*/\.installed-[0-9]+", done.stdout).group(0)


def test_the_environment_stamp_changes_with_the_install_type_and_the_interpreter(tmp_path):
    alias = tmp_path / "python"
    alias.symlink_to(sys.executable)  # the same Python under another path: another interpreter to make
    cpu = stamp(f"PYTHON={sys.executable}", "GPU=0")
    assert stamp(f"PYTHON={sys.executable}") == cpu
    assert stamp(f"PYTHON={sys.executable}", "GPU=1") != cpu
    assert stamp(f"PYTHON={alias}", "GPU=0") != cpu


def test_supported_versions_are_pyprojects_requires_python():
    import tomllib

    from packaging.specifiers import SpecifierSet

    requires = SpecifierSet(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"])
    allowed = tuple((3, minor) for minor in range(8, 16) if requires.contains(f"3.{minor}.5"))
    assert allowed == preflight.SUPPORTED, f"pyproject.toml allows {allowed}, preflight.py {preflight.SUPPORTED}"
