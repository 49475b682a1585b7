"""The `cnncourse` command: build | student | lab | grade | release | collect | feedback | bench | doctor.

Each sub-command is a thin shell over a function of the package, so the tests call the same code.
"""

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _build(args):
    from cnncourse.grading.build import build

    build(chapters=args.chapter or None, execute=not args.no_execute)
    return 0


def _student(args):
    from cnncourse.grading.student import build_student_edition

    reveal = [c.strip() for value in args.reveal or [] for c in value.split(",") if c.strip()]
    build_student_edition(out=Path(args.out), reveal=reveal)
    return 0


def _grade(args):
    from cnncourse.grading.grade import grade

    kwargs = {"course_dir": Path(args.course_dir)} if args.course_dir else {}
    report = grade(Path(args.folder), chapters=args.chapter or None, out=args.out, force=args.force,
                   workers=args.workers, roster=args.roster, scheduler=args.scheduler, cluster=args.cluster, **kwargs)
    return 0 if report.ok else 1


def _exchange(args):
    from cnncourse.grading import exchange

    kwargs = {"course_dir": Path(args.course_dir)} if args.course_dir else {}
    if args.command == "release":
        report = exchange.release(args.chapter, due=args.due, force=args.force, **kwargs)
    elif args.command == "collect":
        report = exchange.collect(args.chapter, **kwargs)
    else:
        report = exchange.release_feedback(args.chapter, students=args.student, **kwargs)
    print(report.text())
    return 0 if report.ok else 1


def _bench(args):
    from cnncourse.bench import run_and_report

    run_and_report(args.name, repeats=args.repeats, json_path=args.json)  # repeats None: the benchmark's default
    return 0


def _doctor(args):
    from cnncourse.doctor import doctor

    return 0 if doctor() else 1


def _lab(args):
    from cnncourse.lab import lab

    return lab(args.jupyter_args)


LAB_EPILOG = """\
Any other option goes to JupyterLab as it is, with or without a `--` before it, e.g.
  cnncourse lab --no-browser --port 8899 --ip 127.0.0.1
  cnncourse lab -- --ServerApp.token=secret --notebook-dir=/path/to/my/copy
As root (a container) --allow-root is added. TensorFlow's start-up logs are kept out of the notebooks, and
nbgrader's instructor tools are hidden (they are in `make formgrader`); Validate stays.
"""


def _exchange_options(p):
    p.add_argument("--course-dir", help="nbgrader course directory (default: autograder/)")
    p.set_defaults(func=_exchange)
    return p


def make_parser():
    """Return the argparse parser of the `cnncourse` command."""
    parser = argparse.ArgumentParser(prog="cnncourse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="re-create release/ from source/ and re-execute solutions/ (fast mode)")
    p.add_argument("--chapter", action="append", help="only this chapter (repeatable), e.g. c1_convolution")
    p.add_argument("--no-execute", action="store_true", help="skip re-executing solutions/")
    p.set_defaults(func=_build)

    p = sub.add_parser("student", help="make the student edition: the package without answers or hidden checks, "
                                       "and the release notebooks, in dist/student/")
    p.add_argument("--out", default=str(REPO / "dist" / "student"), help="output folder (default: dist/student/)")
    p.add_argument("--reveal", action="append",
                   help="keep the answers of these chapters, e.g. --reveal c1_convolution,c2_classic_nets")
    p.set_defaults(func=_student)

    p = sub.add_parser("grade", help="autograde a folder or zip of submissions, in parallel and sandboxed")
    p.add_argument("folder", help="folder or .zip of submissions: nbgrader's <student>/<chapter>/*.ipynb, "
                                  "<student>/*.ipynb, or a Moodle or Canvas export")
    p.add_argument("--workers", type=int, help="submissions graded at the same time (default: one per core)")
    p.add_argument("--roster", help="CSV (column id) or text file of student ids: other students are not graded")
    p.add_argument("--chapter", action="append", help="only this chapter (repeatable)")
    p.add_argument("--force", action="store_true",
                   help="REGRADE submissions that already have autograded results, replacing the recorded autograde")
    p.add_argument("--out", help="folder for grades.csv and grade_cells.csv (default: autograder/)")
    p.add_argument("--course-dir", help="nbgrader course directory (default: autograder/)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="grade on the workers of this Dask scheduler, e.g. tcp://host:8786 "
                                           "(default: worker processes on this machine)")
    where.add_argument("--cluster", help="YAML file naming a Dask cluster to start and grade on, e.g. "
                                         "dask_jobqueue.SLURMCluster (see autograder/README.md)")
    p.set_defaults(func=_grade)

    p = sub.add_parser("release", help="release a built chapter to the students through nbgrader's exchange")
    p.add_argument("chapter", help="e.g. c1_convolution (its notebooks in release/, made by cnncourse build)")
    p.add_argument("--due", help="due date, e.g. '2026-12-10 17:00 UTC': later submissions are recorded as late")
    p.add_argument("--force", action="store_true", help="replace a release already in the exchange")
    _exchange_options(p)
    p = sub.add_parser("collect", help="collect each student's latest submission of a chapter into autograder/submitted/")
    p.add_argument("chapter")
    _exchange_options(p)
    p = sub.add_parser("feedback", help="release the feedback of a graded chapter to the students (release_feedback)")
    p.add_argument("chapter")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    _exchange_options(p)

    p = sub.add_parser("bench", help="measure speed or quality, e.g. `cnncourse bench conv`")
    p.add_argument("name", help="what to measure: conv, mnist, lenet, nets, residual, transfer, ensemble, detection, unet, "
                                "faces, nst, grade, grade-dask, grade-chapters")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repetitions (conv: 20); training steps per network (nets: 3); seeds (residual, transfer, ensemble: 3); "
                        "submissions (grade, grade-dask: 40; grade-chapters: 2 per chapter)")
    p.add_argument("--json", metavar="FILE", default=None,
                   help="also write the figures as JSON to FILE, with the backend, mode and accelerators that ran them")
    p.set_defaults(func=_bench)

    p = sub.add_parser("doctor", help="check the installation: packages, Jupyter extensions, data, each backend's GPUs, CUDA and mode")
    p.set_defaults(func=_doctor)

    p = sub.add_parser("lab", help="open JupyterLab on release/ (other options go to JupyterLab)", allow_abbrev=False,
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=LAB_EPILOG)
    p.set_defaults(func=_lab, jupyter_args=[])
    return parser


def main(argv=None):
    """Entry point of the `cnncourse` console script; returns the exit status."""
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "lab":
        args.jupyter_args = extra  # every option that is not cnncourse's own goes to JupyterLab
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        from cnncourse.config import require_supported_backend

        require_supported_backend()
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"cnncourse {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        if err.name in ("cnncourse.grading", "cnncourse.bench"):  # left out of the student edition
            print(f"cnncourse {args.command}: this is the student edition of cnncourse, which has no "
                  f"`{args.command}` (an instructor's tool): use the full package", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:  # grade has said what was kept and how to go on
        return 130


if __name__ == "__main__":
    sys.exit(main())
