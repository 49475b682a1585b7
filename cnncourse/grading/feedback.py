"""Feedback without the hidden tests: a student learns what failed and why, not the hidden test code.

nbgrader's feedback step (GenerateFeedback) renders the autograded notebook as it is, hidden tests included
(nbgrader issue #917). `HideHiddenTests` is a preprocessor for that step only; the autograded notebook, which the
instructor and the formgrader read, keeps the original. For the feedback it:

1. replaces every `### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS` region of a cell's source by one note line
   (`# hidden tests (not shown)`, indented like the region);
2. filters the traceback of every error output: a frame whose failing line is a hidden-test line, and every frame
   in the course's checks (`cnncourse.checks`: hidden and public checks share their files), is replaced by one
   note; the hidden lines that a kept frame quotes as context are removed. The exception type and message, and the
   frames of the student's own code, stay;
3. removes, from every output of every cell and from the notebook's metadata (the widget state that the HTML
   embeds), each line that quotes a hidden-test line: a student's function can read the cell that calls it
   (IPython's `In`, `inspect.stack()`) and print it.

nbgrader configuration: `c.GenerateFeedback.preprocessors = feedback_preprocessors()` (autograder/nbgrader_config.py),
so `cnncourse grade`, `nbgrader generate_feedback` and the formgrader all use it. `prune_feedback_folder` removes
the other files that GenerateFeedback copies from the autograded folder (a student's code can write files there).
"""

import json
import re
from pathlib import Path

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Int, List, Unicode

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# IPython's frame headers: "Cell In[7], line 3" (a notebook cell) and "File /path/module.py:42, in f(x)".
CELL_FRAME = re.compile(r"^Cell In\[(\d+)\], line (\d+)")
FILE_FRAME = re.compile(r"^File (.+?):(\d+)(?:, in |$)")
# A source line quoted in a frame: "      2 code" or "----> 3 code".
QUOTED_LINE = re.compile(r"^\s*(?:-*>\s*)?(\d+)(?:\s|$)")


def strip_ansi(text):
    """`text` without ANSI colour codes (IPython colours its tracebacks)."""
    return ANSI.sub("", text)


class HideHiddenTests(ClearHiddenTests):
    """For the feedback: hide hidden-test regions in sources, tracebacks and outputs (see the module docstring).

    Inherits ClearHiddenTests' delimiters and their configuration, so it hides exactly the regions that
    generate_assignment removed from the student's notebook: a line containing `begin_test_delimeter` opens a
    region, a line containing `end_test_delimeter` closes it. A region that is never closed runs to the end of
    its cell (hidden, not an error: the feedback must not fail for it).
    """

    code_note = Unicode("# hidden tests (not shown)", help="Replaces a hidden region in a code cell").tag(config=True)
    text_note = Unicode("*(hidden tests, not shown)*", help="Replaces a hidden region in a markdown cell").tag(config=True)
    frame_note = Unicode("[... {n} frame(s) of the tests not shown]",
                         help="Replaces dropped traceback frames; {n} is their count").tag(config=True)
    output_note = Unicode("[... a line quoting hidden tests, not shown]",
                          help="Replaces an output line that quotes hidden tests").tag(config=True)
    hidden_modules = List(["cnncourse.checks"], help="Packages or modules whose traceback frames are never shown").tag(config=True)
    min_secret_length = Int(8, help="Hidden lines shorter than this (stripped) are not searched for in outputs").tag(config=True)

    # Set by preprocess() for the notebook at hand: {execution count: hidden line numbers} and the hidden lines
    # searched for in outputs (those also visible somewhere in the notebook are no secret).
    _hidden_by_count = {}
    _secrets = ()

    def preprocess(self, nb, resources):
        """Hide the hidden tests of `nb` (modified in place); returns (nb, resources)."""
        hidden_by_count, hidden_text, visible_text = {}, [], set()
        for cell in nb.cells:
            source, hidden, kept = self.hide_regions(cell.source, self._note(cell))
            if hidden:
                cell.source = source
                if cell.get("execution_count"):
                    hidden_by_count[int(cell.execution_count)] = set(hidden)
                hidden_text += list(hidden.values())
            visible_text.update(line.strip() for line in kept)
        self._secrets = self.secret_forms(hidden_text, visible_text)
        self._hidden_by_count = hidden_by_count
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = self.filter_traceback(output.get("traceback", []))
                for key in [k for k in output if k != "output_type"]:
                    output[key] = self.redact(output[key])
        nb.metadata = self.redact(nb.metadata)
        return nb, resources

    def secret_forms(self, hidden, visible):
        """The strings searched for in outputs: each hidden line (stripped) that is not also a `visible` line and has
        at least `min_secret_length` characters, as printed and as quoted in a repr() or a JSON string."""
        lines = {line.strip() for line in hidden} - {line.strip() for line in visible}
        lines = [line for line in lines if len(line) >= self.min_secret_length]
        return sorted({form for line in lines for form in (line, repr(line)[1:-1], json.dumps(line)[1:-1])})

    def _note(self, cell):
        return self.code_note if cell.cell_type == "code" else self.text_note

    def hide_regions(self, source, note):
        """Replace each hidden region of `source` by `note`, indented like the region's first line.

        Returns (new source, {line number (1-based): text} of the hidden lines, delimiters included, [kept lines]).
        """
        lines, out, hidden, inside = source.split("\n"), [], {}, False
        for number, line in enumerate(lines, start=1):
            if self.begin_test_delimeter in line:
                if not inside:
                    out.append(line[: len(line) - len(line.lstrip())] + note)
                inside = True
                hidden[number] = ""
            elif inside:
                hidden[number] = "" if self.end_test_delimeter in line else line
                inside = self.end_test_delimeter not in line
            else:
                out.append(line)
        if not hidden:
            return source, {}, lines
        return "\n".join(out), hidden, out

    def filter_traceback(self, traceback):
        """The traceback entries (IPython's list of strings) without the frames and lines of hidden tests."""
        kept, dropped = [], 0
        for entry in traceback:
            new = self._filter_frame(entry)
            if new is None:
                dropped += 1
                continue
            if dropped:
                kept.append(self.frame_note.format(n=dropped))
                dropped = 0
            kept.append(new)
        if dropped:
            kept.append(self.frame_note.format(n=dropped))
        return kept

    def _filter_frame(self, entry):
        """One traceback entry: None to drop it, else the entry with the hidden lines it quotes removed."""
        lines = str(entry).split("\n")  # a student's exception can render its own traceback (_render_traceback_)
        head = strip_ansi(lines[0])
        match = CELL_FRAME.match(head)
        if match:
            hidden = self._hidden_by_count.get(int(match.group(1)), set())
            if int(match.group(2)) in hidden:
                return None
            return "\n".join([lines[0]] + [line for line in lines[1:] if self._quoted_number(line) not in hidden])
        match = FILE_FRAME.match(head)
        if match and self._in_hidden_module(match.group(1)):
            return None
        return "\n".join(lines)

    @staticmethod
    def _quoted_number(line):
        match = QUOTED_LINE.match(strip_ansi(line))
        return int(match.group(1)) if match else None

    def _in_hidden_module(self, path):
        parts = Path(path).with_suffix("").parts
        for dotted in self.hidden_modules:
            names = tuple(dotted.split("."))
            if any(parts[i:i + len(names)] == names for i in range(len(parts) - len(names) + 1)):
                return True
        return False

    def redact(self, value):
        """`value` (an output field, metadata: str, list, dict) with every line that quotes hidden tests replaced."""
        if isinstance(value, str):
            return self._redact_text(value)
        if isinstance(value, list):
            return [self.redact(item) for item in value]
        if isinstance(value, dict):
            return type(value)((key, value[key] if key.startswith("image/") else self.redact(value[key])) for key in value)
        return value

    def _redact_text(self, text):
        searched = (self.begin_test_delimeter, self.end_test_delimeter, *self._secrets)
        plain_text = strip_ansi(text)
        if not any(s in plain_text for s in searched):
            return text
        out = []
        for line in text.splitlines(keepends=True):
            plain = strip_ansi(line)
            if any(s in plain for s in searched):
                end = line[len(line.rstrip("\r\n")):]
                if not out or out[-1] != self.output_note + end:
                    out.append(self.output_note + end)
            else:
                out.append(line)
        return "".join(out)


def feedback_preprocessors():
    """nbgrader's GenerateFeedback preprocessors with HideHiddenTests right after GetGrades (or first)."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.preprocessors import GetGrades

    default = [pp for pp in GenerateFeedback.class_traits()["preprocessors"].default() if pp is not HideHiddenTests]
    at = default.index(GetGrades) + 1 if GetGrades in default else 0
    return default[:at] + [HideHiddenTests] + default[at:]


# nbgrader's own files in a feedback folder: release_feedback reads them.
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def prune_feedback_folder(folder, notebooks):
    """Remove from the feedback `folder` everything but `<notebook>.html` for the names `notebooks` and nbgrader's files.

    GenerateFeedback copies every other file of the autograded folder, where the student's code ran and could
    write (a file holding the hidden tests it read, named like a feedback page, would be released with the
    feedback). Returns the names removed, sorted.
    """
    import shutil

    folder = Path(folder)
    if not folder.is_dir():
        return []
    keep = {f"{name}.html" for name in notebooks} | set(NBGRADER_FILES)
    removed = []
    for path in sorted(folder.iterdir()):
        if path.name in keep and path.is_file() and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(path.name)
    return removed
