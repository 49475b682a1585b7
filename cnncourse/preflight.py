"""Before the install: is this Python one the course installs on, and, for the GPU install, is there an NVIDIA driver?

Run by the Makefile with the interpreter that will build the virtual environment, before anything is installed:

    python3 cnncourse/preflight.py          # the CPU install: checks the Python version
    python3 cnncourse/preflight.py --gpu    # the GPU install: checks the Python version and the NVIDIA driver

Standard library only, and nothing from the package: it runs before the package's dependencies exist. Exit status 0
when every check passed; 2 with a message on stderr that says what was found and what to do.
"""

import shutil
import subprocess
import sys

SUPPORTED = ((3, 11), (3, 12), (3, 13))  # pyproject.toml's requires-python; tests/test_install.py resolves each
SUPPORTED_TEXT = "Python 3.11, 3.12 or 3.13"


class PreflightError(Exception):
    """A check failed; the message says what was found and what to do."""


def check_python(version_info=None):
    """Check the Python version.

    Args:
        version_info: a (major, minor, ...) tuple; None: this interpreter's sys.version_info.
    Returns:
        str: a one-line report, e.g. "Python 3.12.1: supported".
    Raises:
        PreflightError: the version is not one of SUPPORTED.
    """
    version_info = tuple(version_info or sys.version_info)
    found = ".".join(str(part) for part in version_info[:3])
    if version_info[:2] not in SUPPORTED:
        raise PreflightError(
            f"Python {found} ({sys.executable}) is not supported: the course installs on {SUPPORTED_TEXT} "
            "(the versions TensorFlow 2.21 and JAX 0.10 have wheels for). Install one of them and run "
            "`make ... PYTHON=/path/to/python3.12`, or put python3.11, python3.12 or python3.13 on PATH.")
    return f"Python {found}: supported ({SUPPORTED_TEXT})"


def check_nvidia_driver(which=shutil.which, run=subprocess.run):
    """Check that an NVIDIA driver answers, before the GPU install downloads gigabytes of CUDA wheels.

    Args:
        which, run: shutil.which and subprocess.run (replaceable in tests).
    Returns:
        str: a one-line report naming the GPUs and the driver version that nvidia-smi printed.
    Raises:
        PreflightError: no nvidia-smi on PATH, or nvidia-smi failed (no driver loaded, no GPU).
    """
    advice = ("Use the CPU install instead (`make lab`, `make test`: GPU=0, the default), or install the NVIDIA "
              "driver (one that supports CUDA 12) and check that `nvidia-smi` lists your GPU, then run again with "
              "GPU=1.")
    smi = which("nvidia-smi")
    if smi is None:
        raise PreflightError(f"GPU=1: no NVIDIA driver found (no nvidia-smi on PATH). Nothing was installed. {advice}")
    try:
        done = run([smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                   capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise PreflightError(f"GPU=1: {smi} could not run ({err}). Nothing was installed. {advice}") from None
    gpus = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not gpus:
        said = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}, no GPU listed"
        raise PreflightError(f"GPU=1: {smi} found no working NVIDIA driver or GPU ({said}). Nothing was installed. "
                             f"{advice}")
    return f"NVIDIA driver: {'; '.join(gpus)} (nvidia-smi: {smi})"


def main(argv=None):
    """Run the checks named by argv (["--gpu"] adds the driver check); print each report; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    unknown = [arg for arg in argv if arg != "--gpu"]
    if unknown:
        print(f"preflight: unknown argument(s) {' '.join(unknown)}; expected none (the CPU install) or --gpu",
              file=sys.stderr)
        return 2
    checks = [check_python] + ([check_nvidia_driver] if "--gpu" in argv else [])
    try:
        for check in checks:
            print(f"preflight: {check()}")
    except PreflightError as err:
        print(f"preflight: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
