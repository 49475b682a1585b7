"""Submissions in the usual layouts (folder or zip) become nbgrader's <student>/<chapter>/<notebook>.ipynb."""

import os
import zipfile

import pytest

from cnncourse.grading.intake import IntakeError, collect, read_roster

CHAPTERS = {"c1": ["c1_1_numpy.ipynb", "c1_2_keras.ipynb"], "c2": ["c2_1_nets.ipynb"]}


def _touch(path, text="{}", mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _layout(intake):
    return sorted(str(p.relative_to(intake.folder)) for p in intake.folder.rglob("*.ipynb"))


def test_nbgrader_layout_is_kept_and_the_input_never_modified(tmp_path):
    src = tmp_path / "in" / "submitted"
    _touch(src / "alice" / "c1" / "c1_1_numpy.ipynb", "A")
    before = sorted(p.relative_to(src) for p in src.rglob("*"))
    intake = collect(tmp_path / "in", CHAPTERS, tmp_path / "out")
    assert _layout(intake) == ["alice/c1/c1_1_numpy.ipynb"]
    assert (intake.folder / "alice/c1/c1_1_numpy.ipynb").read_text() == "A"
    assert sorted(p.relative_to(src) for p in src.rglob("*")) == before


def test_a_student_folder_without_chapter_folders_is_sorted_by_notebook_name(tmp_path):
    _touch(tmp_path / "in" / "bob" / "c1_2_keras.ipynb")
    _touch(tmp_path / "in" / "bob" / "c2_1_nets.ipynb")
    _touch(tmp_path / "in" / "bob" / "scratch.ipynb")
    intake = collect(tmp_path / "in", CHAPTERS, tmp_path / "out")
    assert _layout(intake) == ["bob/c1/c1_2_keras.ipynb", "bob/c2/c2_1_nets.ipynb", "bob/scratch.ipynb"]


def test_moodle_folders_name_the_student(tmp_path):
    _touch(tmp_path / "in" / "Ada Lovelace_4711_assignsubmission_file_" / "c1_1_numpy.ipynb")
    intake = collect(tmp_path / "in", CHAPTERS, tmp_path / "out")
    assert _layout(intake) == ["Ada_Lovelace/c1/c1_1_numpy.ipynb"]


def test_canvas_flat_files_and_resubmissions_grade_the_latest(tmp_path):
    _touch(tmp_path / "in" / "lovelaceada_123_456_c1_1_numpy.ipynb", "first", mtime=2_000_000)
    _touch(tmp_path / "in" / "lovelaceada_LATE_123_457_c1_1_numpy-1.ipynb", "second", mtime=1_000_000)
    _touch(tmp_path / "in" / "turingalan_124_458_c2_1_nets.ipynb", "alan")
    _touch(tmp_path / "in" / "readme_notes.ipynb")
    intake = collect(tmp_path / "in", CHAPTERS, tmp_path / "out")
    assert _layout(intake) == ["lovelaceada/c1/c1_1_numpy.ipynb", "turingalan/c2/c2_1_nets.ipynb"]
    assert (intake.folder / "lovelaceada/c1/c1_1_numpy.ipynb").read_text() == "second"  # -1: the resubmission
    assert any("two copies of c1_1_numpy.ipynb" in m and "left out" in m for m in intake.problems["lovelaceada/c1"])
    assert "names no student and no notebook" in intake.problems["readme_notes.ipynb"][0]


def test_folders_differing_only_in_case_are_one_student_and_the_later_copy_wins(tmp_path):
    _touch(tmp_path / "in" / "Eve" / "c1" / "c1_1_numpy.ipynb", "old", mtime=1_000_000)
    _touch(tmp_path / "in" / "eve" / "c1" / "c1_1_numpy.ipynb", "new", mtime=2_000_000)
    intake = collect(tmp_path / "in", CHAPTERS, tmp_path / "out", roster={"eve"})
    assert _layout(intake) == ["eve/c1/c1_1_numpy.ipynb"]
    assert (intake.folder / "eve/c1/c1_1_numpy.ipynb").read_text() == "new"
    assert intake.problems["eve/c1"] and not intake.unknown_students


def test_a_roster_turns_away_unknown_students_with_a_suggestion(tmp_path):
    _touch(tmp_path / "in" / "alcie" / "c1" / "c1_1_numpy.ipynb")
    roster = tmp_path / "roster.csv"
    roster.write_text("name,id\nAlice,alice\nBob,bob\n")
    intake = collect(tmp_path / "in", CHAPTERS, tmp_path / "out", roster=read_roster(roster))
    assert _layout(intake) == []
    assert intake.unknown_students["alcie"] == "unknown student 'alcie': not on the roster (did you mean alice?); not graded"
    plain = tmp_path / "ids.txt"
    plain.write_text("alice\nbob\n")
    assert read_roster(plain) == {"alice", "bob"}


def test_a_zip_export_is_unpacked_even_inside_one_wrapping_folder(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/alice/c1/c1_1_numpy.ipynb", "A")
        zf.writestr("export/bob/c1_1_numpy.ipynb", "B")
        zf.writestr("__MACOSX/export/._alice", "junk")
    intake = collect(archive, CHAPTERS, tmp_path / "out")
    assert _layout(intake) == ["alice/c1/c1_1_numpy.ipynb", "bob/c1/c1_1_numpy.ipynb"]


@pytest.mark.parametrize("member, says", [("../../evil.ipynb", "unsafe path"), ("/etc/evil.ipynb", "unsafe path")])
def test_a_zip_that_escapes_its_folder_is_refused(tmp_path, member, says):
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, "x")
    with pytest.raises(IntakeError, match=says):
        collect(archive, CHAPTERS, tmp_path / "out")
    assert not (tmp_path / "evil.ipynb").exists()


def test_a_zip_with_a_link_or_a_bomb_is_refused(tmp_path, monkeypatch):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("alice/c1/c1_1_numpy.ipynb")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(IntakeError, match="symbolic link"):
        collect(archive, CHAPTERS, tmp_path / "out")
    import cnncourse.grading.intake as intake_module

    monkeypatch.setattr(intake_module, "MAX_ZIP_BYTES", 100)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("alice/c1/c1_1_numpy.ipynb", "0" * 10_000)
    with pytest.raises(IntakeError, match="would unpack to"):
        collect(bomb, CHAPTERS, tmp_path / "out")


def test_bad_inputs_as_a_whole_say_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder or zip"):
        collect(tmp_path / "nothing", CHAPTERS, tmp_path / "out")
    text = _touch(tmp_path / "grades.txt", "hello")
    with pytest.raises(IntakeError, match="neither a folder nor a zip"):
        collect(text, CHAPTERS, tmp_path / "out")
    _touch(tmp_path / "one" / "c1" / "c1_1_numpy.ipynb")
    with pytest.raises(IntakeError, match="looks like one student's folder"):
        collect(tmp_path / "one", CHAPTERS, tmp_path / "out")


def test_moodle_namesakes_stay_two_students_and_feedback_folders_are_skipped(tmp_path):
    _touch(tmp_path / "in" / "John Smith_11_assignsubmission_file_" / "c1_1_numpy.ipynb", "one")
    _touch(tmp_path / "in" / "John Smith_12_assignsubmission_file_" / "c1_1_numpy.ipynb", "two")
    _touch(tmp_path / "in" / "Ada Byron_13_assignfeedback_file_" / "c1_1_numpy.ipynb", "teacher")
    intake = collect(tmp_path / "in", CHAPTERS, tmp_path / "out")
    assert _layout(intake) == ["John_Smith_11/c1/c1_1_numpy.ipynb", "John_Smith_12/c1/c1_1_numpy.ipynb"]
    assert "feedback files" in intake.problems["Ada Byron_13_assignfeedback_file_"][0]


def test_a_zip_keeps_its_times_so_the_later_copy_wins_and_folders_named_ipynb_are_ignored(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("Eve/c1/c1_1_numpy.ipynb", date_time=(2026, 11, 30, 12, 0, 0)), "new")
        zf.writestr(zipfile.ZipInfo("eve/c1/c1_1_numpy.ipynb", date_time=(2026, 11, 1, 12, 0, 0)), "old")
        zf.writestr("eve/c1/odd.ipynb/", "")
    intake = collect(archive, CHAPTERS, tmp_path / "out")
    assert _layout(intake) == ["Eve/c1/c1_1_numpy.ipynb"]
    assert (intake.folder / "Eve/c1/c1_1_numpy.ipynb").read_text() == "new"
