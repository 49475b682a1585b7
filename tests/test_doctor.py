"""`cnncourse doctor`'s backend report, with each backend's probe replaced by its answer (the real probes run in
tests/test_install.py, system tier): GPUs, CUDA and cuDNN and the mode per backend; a backend that cannot start and a
GPU install that sees no GPU fail, saying so."""

import pytest

from cnncourse import doctor


def answers(**by_backend):
    """A probe for check_backends that returns by_backend[backend]."""
    return lambda backend: {"backend": backend, **by_backend[backend]}


def cpu_build(version):
    """probe.probe()'s answer for a CPU build on a machine without a GPU."""
    return {"version": version, "accelerators": [], "cuda": "none (CPU build)", "cudnn": "none (CPU build)",
            "mode": "fast", "why": "no GPU found"}


def test_cpu_install_on_a_cpu_says_no_gpu_and_passes(monkeypatch):
    monkeypatch.setattr(doctor, "installed_extra", lambda: "cpu")
    results = list(doctor.check_backends(answers(tensorflow=cpu_build("2.21.0"), jax=cpu_build("0.10.2"))))
    assert all(ok for ok, _ in results)
    assert results[0][1] == ("backend tensorflow 2.21.0: GPUs none (CPU only); CUDA none (CPU build), cuDNN none "
                             "(CPU build); notebooks run in fast mode (no GPU found)")
    assert results[-1][1].startswith("GPU: none (this machine, CPU install)")


def test_gpu_install_reports_the_gpus_cuda_and_cudnn(monkeypatch):
    monkeypatch.setattr(doctor, "installed_extra", lambda: "gpu")
    gpu = {"accelerators": ["GPU:0 NVIDIA H100"], "cuda": "12.9", "cudnn": "9.28.0", "mode": "full",
           "why": "a GPU was found"}
    results = list(doctor.check_backends(answers(tensorflow={"version": "2.21.0", **gpu},
                                                 jax={"version": "0.10.2", **gpu})))
    assert all(ok for ok, _ in results)
    assert "GPUs GPU:0 NVIDIA H100; CUDA 12.9, cuDNN 9.28.0; notebooks run in full mode (a GPU was found)" in \
        results[1][1]
    assert results[-1][1] == "GPU: 2 seen across the backends (gpu install)"


def test_gpu_install_that_sees_no_gpu_fails_saying_what_to_check(monkeypatch):
    monkeypatch.setattr(doctor, "installed_extra", lambda: "gpu")
    results = list(doctor.check_backends(answers(tensorflow=cpu_build("2.21.0"), jax=cpu_build("0.10.2"))))
    ok, message = results[-1]
    assert not ok and "none seen by any backend, yet this is the GPU install" in message and "nvidia-smi" in message


def test_a_backend_that_cannot_start_fails_with_its_error(monkeypatch):
    monkeypatch.setattr(doctor, "installed_extra", lambda: "cpu")
    results = list(doctor.check_backends(answers(tensorflow=cpu_build("2.21.0"),
                                                 jax={"error": "ModuleNotFoundError: No module named 'jax'"})))
    assert (False, "backend jax: cannot start (ModuleNotFoundError: No module named 'jax')") in results


def test_pinned_requirements_add_the_extra_and_refuse_an_unknown_one():
    cpu, gpu = doctor.pinned_requirements(extra="cpu"), doctor.pinned_requirements(extra="gpu")
    assert cpu["tensorflow-cpu"] == "2.21.0" and "tensorflow[and-cuda]" not in cpu
    assert gpu["tensorflow[and-cuda]"] == "2.21.0" and gpu["jax[cuda12]"] == "0.10.2" and "jaxlib" not in gpu
    assert "tensorflow-cpu" not in doctor.pinned_requirements(extra=None)
    with pytest.raises(ValueError, match="no extra 'rocm'; expected one of cpu, gpu"):
        doctor.pinned_requirements(extra="rocm")


def test_kernel_config_check_names_a_missing_or_stale_file_and_passes_the_course_one(tmp_path):
    [(ok, message)] = doctor.check_kernel_config(tmp_path)
    assert not ok and "missing" in message and "make" in message
    installed = tmp_path / "etc" / "ipython" / "ipython_kernel_config.json"
    installed.parent.mkdir(parents=True)
    installed.write_text('{"IPKernelApp": {"capture_fd_output": true}}')
    [(ok, message)] = doctor.check_kernel_config(tmp_path)
    assert not ok and "differs" in message
    installed.write_text((doctor.REPO / "cnncourse" / "jupyter" / "ipython_kernel_config.json").read_text())
    [(ok, message)] = doctor.check_kernel_config(tmp_path)
    assert ok and str(installed) in message
