"""What `cnncourse grade` tells the instructor: one result per submission, the summary, and the two CSV files."""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

GRADED = "graded"
ALREADY_GRADED = "already graded"
FAILED = "failed"
NOT_GRADED = "not graded"
STATUSES = (GRADED, ALREADY_GRADED, FAILED, NOT_GRADED)

GRADES_CSV = "grades.csv"
CELLS_CSV = "grade_cells.csv"


@dataclass
class SubmissionResult:
    """The outcome for one <student>/<chapter>.

    status: "graded", "already graded" (kept as recorded, not regraded), "failed" (nbgrader could not grade
    it), "not graded" (nothing gradable: unknown chapter or student, no readable notebook).
    score / max_score: points from the gradebook (None when nothing is recorded).
    cells: {(notebook, grade_id): (score, max_score)}; problems: plain-words messages (missing, invalid,
    misnamed notebooks, duplicates, feedback not written); flagged: [(notebook, grade_id, message)] for grade cells
    that failed because the student's function called the course's reference implementation (tripwire.py).
    """

    student: str
    chapter: str
    status: str
    score: float = None
    max_score: float = None
    message: str = ""
    problems: list = field(default_factory=list)
    cells: dict = field(default_factory=dict)
    feedback: list = field(default_factory=list)
    flagged: list = field(default_factory=list)
    log: Path = None
    seconds: float = None

    @property
    def key(self):
        return f"{self.student}/{self.chapter}" if self.chapter else self.student

    @property
    def ok(self):
        """True when the submission is graded (now or before), every notebook could be graded and nothing is flagged."""
        return self.status in (GRADED, ALREADY_GRADED) and not self.problems and not self.flagged

    def cell_score(self, grade_id, notebook=None):
        """Score of the grade cell `grade_id` (in `notebook` when ids repeat across notebooks)."""
        hits = [v for (nb, gid), v in self.cells.items() if gid == grade_id and notebook in (None, nb)]
        if len(hits) != 1:
            raise KeyError(f"{self.key}: {len(hits)} grade cells named {grade_id!r}")
        return hits[0][0]

    def messages(self):
        flags = [f"FLAGGED {grade_id}: {message}" for _, grade_id, message in self.flagged]
        return [m for m in [self.message, *flags, *self.problems] if m]

    def line(self):
        score = f"{self.score:g}/{self.max_score:g}" if self.score is not None else "-"
        return f"{self.key:<32} {self.status:<15} {score:>9}  {'; '.join(self.messages())}".rstrip()


@dataclass
class GradeReport:
    """Everything `grade` did; `ok` is False when any submission failed, could not be fully graded or is flagged."""

    submissions: list
    csv: Path = None
    cells_csv: Path = None

    @property
    def ok(self):
        return all(s.ok for s in self.submissions)

    def get(self, student, chapter):
        for s in self.submissions:
            if s.student == student and s.chapter == chapter:
                return s
        raise KeyError(f"no submission {student}/{chapter} in this report")

    def count(self, status):
        return sum(s.status == status for s in self.submissions)

    def counts(self):
        return ", ".join(f"{self.count(st)} {st}" for st in STATUSES)

    def mean_cell_scores(self):
        """{chapter: {(notebook, grade_id): (mean score, max_score, n)}} over the submissions with recorded scores."""
        sums = defaultdict(lambda: defaultdict(list))
        for s in self.submissions:
            if s.status in (GRADED, ALREADY_GRADED):
                for key, (score, maximum) in s.cells.items():
                    sums[s.chapter][key].append((score, maximum))
        return {chapter: {key: (sum(v for v, _ in vals) / len(vals), vals[0][1], len(vals)) for key, vals in cells.items()}
                for chapter, cells in sums.items()}

    def summary(self):
        """The closing text: counts, failures and why, flagged submissions, the mean score of every grade cell."""
        lines = [f"{len(self.submissions)} submission(s): {self.counts()}; "
                 f"{sum(bool(s.problems) for s in self.submissions)} with problems, "
                 f"{sum(bool(s.flagged) for s in self.submissions)} flagged"]
        for s in self.submissions:
            if s.status in (FAILED, NOT_GRADED) or s.flagged:
                lines.append(f"  {s.key}: {s.status}: {'; '.join(s.messages())}")
        for chapter, cells in sorted(self.mean_cell_scores().items()):
            lines.append(f"mean score per graded function, {chapter}:")
            for (notebook, grade_id), (mean, maximum, n) in cells.items():
                lines.append(f"  {notebook:<34} {grade_id:<32} {mean:6.2f} / {maximum:g}  ({n} submissions)")
        if self.csv:
            lines.append(f"grades: {self.csv} (per cell: {self.cells_csv})")
        return "\n".join(lines)


def _number(x):
    return "" if x is None else f"{x:g}"


def _kept_rows(path, replaced):
    """The rows of an existing CSV whose (student, chapter) is not in `replaced` (this run's submissions)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [row for row in csv.DictReader(fh) if (row.get("student"), row.get("chapter")) not in replaced]
    except (OSError, csv.Error):
        return []


def write_csvs(report, out):
    """Write <out>/grades.csv (one row per submission) and <out>/grade_cells.csv (one per grade cell).

    Rows of earlier runs for other submissions are kept (a run over late submissions adds to the class's files);
    this run's submissions replace their own rows. Rows are sorted by student, then chapter.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report.csv, report.cells_csv = out / GRADES_CSV, out / CELLS_CSV
    replaced = {(s.student, s.chapter) for s in report.submissions}
    fields = ["student", "chapter", "status", "score", "max_score", "percent", "flagged", "message"]
    rows = _kept_rows(report.csv, replaced)
    for s in report.submissions:
        percent = f"{100 * s.score / s.max_score:.1f}" if s.score is not None and s.max_score else ""
        rows.append(dict(zip(fields, [s.student, s.chapter, s.status, _number(s.score), _number(s.max_score), percent,
                                      " ".join(grade_id for _, grade_id, _ in s.flagged),
                                      "; ".join(m for m in [s.message, *s.problems] if m)])))
    _write(report.csv, fields, rows)
    fields = ["student", "chapter", "notebook", "grade_id", "score", "max_score"]
    rows = _kept_rows(report.cells_csv, replaced)
    for s in report.submissions:
        for (notebook, grade_id), (score, maximum) in s.cells.items():
            rows.append(dict(zip(fields, [s.student, s.chapter, notebook, grade_id, _number(score), _number(maximum)])))
    _write(report.cells_csv, fields, rows)


def _write(path, fields, rows):
    rows = sorted(rows, key=lambda r: (r.get("student", ""), r.get("chapter", "")))  # stable: cells keep their order
    tmp = path.with_suffix(".part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
