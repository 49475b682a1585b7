"""The kernel that runs a student's notebook during grading: limits, a clean environment, hidden files, no network.

nbgrader executes student code with the grader's rights ("nbgrader is not a sandbox"). `cnncourse grade` starts
every autograde kernel through this module instead of the plain python3 kernel (a kernelspec written by
`write_kernelspec` into the worker's scratch folder, found through JUPYTER_PATH). Its argv is

    python -m cnncourse.grading.sandbox launch -- unshare -rmnpf --kill-child --mount-proc \
        python -m cnncourse.grading.sandbox kernel -f {connection_file}

- `launch` asks the kernel to be killed when the grading worker dies (prctl PR_SET_PDEATHSIG), then execs the rest;
- `unshare` (when the machine allows it, see `isolation`) puts the kernel in new user, mount, network and PID
  namespaces: no network (only a loopback that is down), its own /proc (the grader's processes are invisible), and
  every process it forks dies with it;
- `kernel` (`confine`) mounts an empty tmpfs over the hidden folders (the repository's source/, solutions/,
  autograder/, tests/, .git, the course directory, the input, /tmp with every grading worker's scratch folder) and
  /dev/null over hidden files, turns the whole file system read-only, binds back writable only the kernel's own
  runtime, home and working folders, and locks these mounts in a nested user namespace; it then sets resource
  limits (address space, CPU seconds, file size, processes), changes to the working folder, strips the environment
  down to an allow-list and starts ipykernel with a cap on the bytes of stream output.
The settings travel in the environment variable CNNCOURSE_SANDBOX (JSON, see `Limits` and `write_kernelspec`).
The kernel talks to the grader over Unix sockets (KernelManager.transport = "ipc"), which a network namespace
does not cut. See autograder/README.md, "Threat model", for what this does and does not enforce.
"""

import contextlib
import ctypes
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache

SETTINGS_VAR = "CNNCOURSE_SANDBOX"
KERNEL_NAME = "python3"  # the name the notebooks ask for: the sandbox replaces it in the worker's JUPYTER_PATH
UNSHARE = ["unshare", "-rmnpf", "--kill-child", "--mount-proc"]
# Variables the student's kernel keeps (besides those the grader sets explicitly).
# Folders of the repository that a student's kernel never sees (the course directory is hidden too). Here, not in
# grade.py, because both the local pool (grade.py) and the Dask tasks (remote.py) hide them.
HIDDEN_REPO_FOLDERS = ("source", "solutions", "tests", "autograder", ".git")
ENV_ALLOW = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CNNCOURSE_MODE", "TF_ENABLE_ONEDNN_OPTS",
             "TF_CPP_MIN_LOG_LEVEL", "PYTHONHASHSEED", "KERAS_BACKEND", "MPLBACKEND", "OMP_NUM_THREADS",
             "JPY_PARENT_PID", "NBGRADER_EXECUTION", "PYDEVD_DISABLE_FILE_VALIDATION")
TRUNCATED = "\n[output truncated by the grader: this notebook printed more than {} bytes]\n"


@dataclass
class Limits:
    """Resource limits of one kernel (None: no limit).

    memory: bytes of address space (RLIMIT_AS; TensorFlow reserves a few GB of it, hence the generous default);
    cpu: CPU seconds of the kernel (RLIMIT_CPU, a backstop behind the per-cell and per-notebook timeouts);
    file_size: bytes of the largest file the kernel may write (RLIMIT_FSIZE);
    processes: processes and threads the kernel may add (RLIMIT_NPROC counts all of the user's, so the limit is
        set to what the user runs at kernel start plus this many);
    output: bytes of stream output (print, stderr) kept per kernel; the rest is dropped with a notice.
    """

    memory: int = 8 * 2**30
    cpu: int = 1800
    file_size: int = 200 * 2**20
    processes: int = 512
    output: int = 2 * 2**20


@lru_cache(maxsize=1)
def isolation():
    """(True, "") when `unshare -rmnpf --mount-proc` works here, else (False, why not).

    Unprivileged user namespaces are needed (some containers and hardened kernels refuse them), and Linux 5.12 or
    later for mount_setattr (the read-only file system).
    """
    if not shutil.which("unshare"):
        return False, "the unshare command is not installed"
    release = tuple(int(x) for x in re.findall(r"\d+", os.uname().release)[:2])
    if release < (5, 12):
        return False, f"Linux {os.uname().release} is older than 5.12 (no mount_setattr)"
    try:
        run = subprocess.run([*UNSHARE, "true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, f"unshare failed: {err}"
    if run.returncode != 0:
        return False, f"unshare refused: {run.stderr.strip() or run.returncode}"
    return True, ""


def write_kernelspec(folder, settings, isolate=None):
    """Write <folder>/kernels/python3/kernel.json, a kernelspec that starts the sandboxed kernel.

    Args:
        folder: put it first on JUPYTER_PATH so that jupyter_client finds this "python3" before the real one.
        settings: dict with "limits" (Limits or dict), "cwd" (working folder; None: the one the kernel is started
            in), "home" (HOME and TMPDIR of the kernel), "keep" (folders bound back after hiding: the runtime,
            working and home folders), "hide" (folders to hide), "env" (extra variables), "references" (dotted
            names of the reference functions to guard, see tripwire.py), "evidence" (the folder where the kernel
            records its checks' calls for the judge, see evidence.py; None: no record).
        isolate: use unshare (None: when `isolation()` says it works).
    Returns the path of kernel.json.
    """
    if isolate is None:
        isolate = isolation()[0]
    settings = dict(settings)
    if isinstance(settings.get("limits"), Limits):
        settings["limits"] = asdict(settings["limits"])
    settings["isolated"] = bool(isolate)
    me = [sys.executable, "-m", "cnncourse.grading.sandbox"]
    argv = [*me, "launch", "--", *(UNSHARE if isolate else []), *me, "kernel", "-f", "{connection_file}"]
    spec = {
        "argv": argv,
        "display_name": "Python 3 (cnncourse grading sandbox)",
        "language": "python",
        "interrupt_mode": "signal",
        "env": {SETTINGS_VAR: json.dumps(settings)},
        "metadata": {"debugger": False},
    }
    path = os.path.join(folder, "kernels", KERNEL_NAME, "kernel.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(spec, fh, indent=1)
    return path


# --- inside the kernel's process ----------------------------------------------------------------------------------

_MS_BIND, _MS_REC = 4096, 16384
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_SYS_MOUNT_SETATTR = 442  # the same number on x86_64 and aarch64 (syscalls added after 4.20 share their numbers)
_AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1


def _mount(source, target, fstype, flags, data=None):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    if libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                  data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _mount_setattr(path, set_flags=0, clear_flags=0, recursive=False):
    """mount_setattr(2) (Linux 5.12+) on `path`: set / clear MOUNT_ATTR_* flags, on every mount below it if recursive."""
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint64 * 4)(set_flags, clear_flags, 0, 0)  # struct mount_attr: set, clr, propagation, userns_fd
    flags = _AT_RECURSIVE if recursive else 0
    if libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, path.encode(), flags, attr, ctypes.sizeof(attr)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount_setattr {path}: {os.strerror(err)}")


def _write(path, text):
    with open(path, "w") as fh:
        fh.write(text)


def _lock_mounts():
    """Enter a nested user and mount namespace (as root of it): every mount made so far becomes locked there.

    Root of the first user namespace could unmount the tmpfs that hides a folder, or remount / writable; mounts
    copied into a namespace owned by a less privileged user namespace can be neither unmounted nor made writable.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare: {os.strerror(err)}")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", "0 0 1")
    _write("/proc/self/gid_map", "0 0 1")


def confine(paths, keep):
    """Hide `paths`, make the whole file system read-only except the folders of `keep`, and lock it that way.

    Needs to run as root of a private mount namespace (unshare -rm), single-threaded. Each folder of `paths` gets an
    empty tmpfs over it, each file /dev/null; then every mount turns read-only (but /proc and a private /dev/shm), the
    folders of `keep` are bound back writable (opened before hiding, so a kept folder may lie inside a hidden one),
    and the mounts are locked (`_lock_mounts`). A path that holds this Python or the package is never hidden (the
    kernel could not start); it is returned so the caller can say so.
    Returns the paths that were left visible for that reason.
    """
    fds = [(path, os.open(path, os.O_PATH)) for path in keep]
    needed = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(__file__)))]
    skipped = []
    for path in sorted(set(paths), key=len):
        real = os.path.realpath(path)
        if any(n == real or n.startswith(real.rstrip("/") + "/") for n in needed):
            skipped.append(path)
        elif os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", 0, "size=1m,mode=755")
        elif os.path.isfile(path):
            _mount("/dev/null", path, None, _MS_BIND)
    for path, _ in fds:  # mount points inside the hidden folders' tmpfs, while it is writable
        os.makedirs(path, exist_ok=True)
    shm = os.path.isdir("/dev/shm")
    if shm:  # a private, small /dev/shm: multiprocessing (joblib) needs one, and the host's is shared by all
        _mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=64m,mode=1777")
    _mount_setattr("/", set_flags=_MOUNT_ATTR_RDONLY, recursive=True)
    for path in ["/proc", *(["/dev/shm"] if shm else [])]:
        _mount_setattr(path, clear_flags=_MOUNT_ATTR_RDONLY)
    for path, fd in fds:
        _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        _mount_setattr(path, clear_flags=_MOUNT_ATTR_RDONLY, recursive=True)  # a bind copies the source's read-only
        os.close(fd)
    _lock_mounts()
    return skipped


def set_limits(limits):
    """Apply a Limits dict to this process (inherited by the kernel and whatever it starts)."""
    def cap(which, value):
        if value is None:
            return
        soft, hard = resource.getrlimit(which)
        value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
        resource.setrlimit(which, (value, value))

    cap(resource.RLIMIT_AS, limits.get("memory"))
    cap(resource.RLIMIT_CPU, limits.get("cpu"))
    cap(resource.RLIMIT_FSIZE, limits.get("file_size"))
    cap(resource.RLIMIT_CORE, 0)
    if limits.get("processes") is not None:
        cap(resource.RLIMIT_NPROC, _user_tasks() + int(limits["processes"]))


def _user_tasks():
    """Threads now running under this real uid (what RLIMIT_NPROC counts); a large guess when /proc says nothing."""
    uid, count = os.getuid(), 0
    try:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if os.stat(f"/proc/{pid}").st_uid == uid:
                        count += len(os.listdir(f"/proc/{pid}/task"))
                except OSError:
                    pass
    except OSError:
        return 4096
    return count


def clean_environment(extra, home):
    """The kernel's environment: the allow-listed variables of this one, `extra`, and HOME/TMPDIR under `home`."""
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOW}
    env.update(extra or {})
    env.update({"HOME": home, "TMPDIR": home, "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
                "KERAS_HOME": os.path.join(home, ".keras"), "IPYTHONDIR": os.path.join(home, ".ipython")})
    return env


def _cap_streams(limit):
    """Wrap sys.stdout / sys.stderr (ipykernel's OutStreams) so that at most `limit` bytes in all are sent."""
    state = {"left": int(limit), "noted": False}

    def wrap(stream):
        write = stream.write

        def capped(text):
            if state["left"] <= 0:
                if not state["noted"]:
                    state["noted"] = True
                    write(TRUNCATED.format(limit))
                return len(text)
            kept = text[: state["left"]]
            state["left"] -= len(kept)
            write(kept)
            return len(text)

        stream.write = capped

    wrap(sys.stdout)
    wrap(sys.stderr)


def _kernel(argv):
    """Prepare this process (hide, cwd, limits, environment) and re-exec itself; the second pass runs ipykernel."""
    settings = json.loads(os.environ.get(SETTINGS_VAR, "{}"))
    if not os.environ.get("_CNNCOURSE_SANDBOX_READY"):
        if settings.get("isolated"):
            for path in confine(settings.get("hide", []), settings.get("keep", [])):
                print(f"cnncourse sandbox: {path} holds Python or cnncourse and stays visible", file=sys.stderr)
        cwd = settings.get("cwd") or os.getcwd()
        os.chdir(cwd)
        set_limits(settings.get("limits", {}))
        env = clean_environment(settings.get("env"), settings.get("home") or cwd)
        env["_CNNCOURSE_SANDBOX_READY"] = "1"
        env[SETTINGS_VAR] = json.dumps({key: settings.get(key)
                                        for key in ("limits", "isolated", "references", "evidence")})
        os.execve(sys.executable, [sys.executable, "-m", "cnncourse.grading.sandbox", "kernel", *argv], env)
    if settings.get("references"):  # before ipykernel captures the streams: problems go to the grader's log
        from cnncourse.grading.tripwire import install

        for problem in install(settings["references"])[1]:
            print(f"cnncourse sandbox: reference not guarded: {problem}", file=sys.stderr)
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(argv)
    if settings.get("evidence"):  # every check call is recorded, for the judge outside this kernel (judge.py)
        from cnncourse.grading.evidence import install as record_checks

        from cnncourse.grading.evidence import kernel_folder

        record_checks(kernel_folder(settings["evidence"], os.getcwd()), app.shell)
    if settings.get("limits", {}).get("output"):
        _cap_streams(settings["limits"]["output"])
        # IPython 9 also keeps a copy of every stream write of a cell for its history (InteractiveShell._tee),
        # which would hold gigabytes of printed text in memory whatever reaches the grader: grading needs none of it.
        if hasattr(app.shell, "_tee"):
            app.shell._tee = lambda channel: contextlib.nullcontext()
    app.start()


def main(argv=None):
    """`launch -- CMD...`: exec CMD, to be killed with the grading worker; `kernel ARGS`: the sandboxed kernel."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command, rest = argv[0], argv[1:]
    if command == "launch":
        if rest and rest[0] == "--":
            rest = rest[1:]
        try:
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        os.execvp(rest[0], rest)
    elif command == "kernel":
        _kernel(rest)
    else:
        raise SystemExit(f"usage: python -m cnncourse.grading.sandbox launch -- CMD... | kernel -f FILE (got {command})")


if __name__ == "__main__":
    main()
