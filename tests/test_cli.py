"""The `cnncourse` command: bad input gets a clear message and a non-zero exit status."""

from cnncourse.cli import main


def test_unknown_benchmark_names_the_known_ones(capsys):
    assert main(["bench", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark 'nope'" in err and "conv" in err and "mnist" in err


def test_grade_of_a_missing_folder_is_refused(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "no_such_folder")]) == 2
    assert "no_such_folder" in capsys.readouterr().err


def test_unknown_mode_is_refused(monkeypatch):
    from cnncourse import config

    monkeypatch.setenv("CNNCOURSE_MODE", "turbo")
    try:
        config.mode()
    except ValueError as err:
        assert "fast" in str(err) and "turbo" in str(err)
    else:
        raise AssertionError("CNNCOURSE_MODE=turbo was accepted")
