"""The browser tier: the course in JupyterLab, started as `cnncourse lab` starts it, in headless Chromium driven by
Playwright (Debian's /usr/bin/chromium; Playwright cannot download its own browsers here).

One fixture owns the JupyterLab server (127.0.0.1, a free port, a token, its own settings, workspace, runtime and
data folders, copies of the notebooks) and stops it by its PID at the end, pass or fail. Every wait has a timeout;
elements are found by role or text and `expect` waits for them, nothing sleeps.

What it checks, as a student would see it in a 1440x900 window:
- JupyterLab opens without the news pop-up and without nbgrader's instructor tools; Validate is there;
- every notebook that holds a widget: its saved widget views render without a kernel (solutions/ stores the
  widget state; `cnncourse lab` trusts those notebooks), every figure fits the window under its controls, and its
  first cell runs without red stderr (TensorFlow's start-up logs);
- LIVE notebooks (their cells before the widgets run in seconds) are run up to their widgets in a fresh kernel:
  every widget renders live and redraws when one of its controls changes;
- Validate reports success on a copy of a solutions notebook and the NotImplementedError on a release notebook.
Screenshots of every widget are left in build/browser-screens/ (one PNG per widget) for a reviewer.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CNNCOURSE_CHROMIUM", "/usr/bin/chromium"))
SCREENS = REPO / "build" / "browser-screens"
WINDOW = {"width": 1440, "height": 900}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# notebooks whose cells before their widgets run in seconds: run live up to the widgets, then a control is changed
LIVE = ("c1_1_convolution_numpy", "c3_2_boxes_anchors", "c4_1_transpose_convolution")
VALIDATED = "c4_unet/c4_1_transpose_convolution.ipynb"  # the notebook whose copies Validate checks
SERVER_START_S, KERNEL_RUN_S, VALIDATE_S, UI_S = 120, 180, 240, 30
REPORT = []  # lines for the terminal summary (tests/conftest.py)
# The widgets of the other notebooks sit behind trainings of a minute or more (YOLO, the face encoder, style
# transfer). They are built live in one scratch notebook from small generated inputs, by the course's own functions.
SCRATCH = "scratch/widgets_live.ipynb"
SCRATCH_CELLS = {
    "architecture_explorer": "architecture_explorer()",
    "scaling_explorer": "scaling_explorer()",
    "nms_explorer": (
        "rng = np.random.default_rng(0)\n"
        "corners = rng.uniform(0, 48, (2, 8, 2))\n"
        "candidates = [{'boxes': np.concatenate([c, c + rng.uniform(6, 16, c.shape)], axis=1),\n"
        "               'scores': rng.random(8), 'labels': rng.integers(0, 3, 8)} for c in corners]\n"
        "nms_explorer(rng.random((2, 64, 64, 3)), candidates, ['digit', 'square', 'disc'])"),
    "roc_explorer": (
        "rng = np.random.default_rng(1)\n"
        "same = np.arange(200) % 2 == 0\n"
        "roc_explorer(np.where(same, rng.normal(0.6, 0.2, 200), rng.normal(1.1, 0.2, 200)).clip(0), same)"),
    "face_pair_explorer": (
        "encodings = np.eye(4)[[0, 0, 1, 2]] + np.random.default_rng(2).normal(0, 0.1, (4, 4))\n"
        "face_pair_explorer(np.random.default_rng(3).random((4, 24, 24, 3)), ['ann', 'ann', 'ben', 'cy'], encodings)"),
    "style_mixer": "style_mixer(size=32, steps=2)",
}


def _why_skipped():
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return (f"no Chromium at {CHROMIUM}: install Debian's (apt-get install chromium fonts-dejavu-core, as .ci/run "
                f"does) or set CNNCOURSE_CHROMIUM")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (make test installs the pinned version)"
    return None


SKIP_REASON = _why_skipped()
pytestmark = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")


def widget_cells(path):
    """Indices of the cells of a notebook file whose outputs hold a widget view, and the number of such views."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for index, cell in enumerate(nb["cells"]):
        views = sum(WIDGET_VIEW in o.get("data", {}) for o in cell.get("outputs", []))
        if views:
            cells.append((index, views))
    return cells


WIDGET_NOTEBOOKS = sorted(p.relative_to(REPO / "solutions").as_posix()
                          for p in (REPO / "solutions").glob("*/*.ipynb") if widget_cells(p))


def write_scratch_notebook(path):
    """The notebook of SCRATCH_CELLS: an import cell, then one widget per cell, in that order."""
    import nbformat

    names = ", ".join(SCRATCH_CELLS)
    cells = [nbformat.v4.new_code_cell(f"import numpy as np\nfrom cnncourse.widgets import {names}")]
    cells += [nbformat.v4.new_code_cell(source) for source in SCRATCH_CELLS.values()]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}), str(path))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server started through `cnncourse lab`, and how to reach it."""

    def __init__(self, root):
        self.root = Path(root)
        self.notebooks = self.root / "notebooks"
        self.port = _free_port()
        self.token = os.urandom(16).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.root / "server.log"
        self.process = None

    def start(self):
        folders = {name: self.root / name for name in ("settings", "workspaces", "runtime", "data", "config")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        tracker = folders["settings"] / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True, exist_ok=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}))  # every cell in the page (see go_to_cell)
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(folders["runtime"]), JUPYTER_DATA_DIR=str(folders["data"]),
                   JUPYTER_CONFIG_DIR=str(folders["config"]))
        env.pop("TF_ENABLE_ONEDNN_OPTS", None)  # cnncourse lab must quiet TensorFlow with oneDNN on, as students run it
        env.pop("TF_CPP_MIN_LOG_LEVEL", None)
        command = Path(sys.executable).with_name("cnncourse")
        cmd = [str(command)] if command.is_file() else [sys.executable, "-m", "cnncourse.cli"]
        cmd += ["lab", "--no-browser", "--port", str(self.port), "--ip", "127.0.0.1",
                f"--IdentityProvider.token={self.token}", f"--notebook-dir={self.notebooks}",
                f"--LabApp.user_settings_dir={folders['settings']}",
                f"--LabApp.workspaces_dir={folders['workspaces']}"]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"cnncourse lab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.5)  # polling the server's port, not waiting on the page
        raise AssertionError(f"JupyterLab did not answer within {SERVER_START_S} s:\n{self.log_tail()}")

    def api(self, method, path):
        """Call the server's REST API with the token; returns the decoded JSON (or None)."""
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self):
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def stop(self):
        """Stop the server by its PID (its kernels with it); kill its process group if it does not go."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # JupyterLab shuts its kernels down on SIGTERM
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # anything left of the session it started
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def log_tail(self, lines=40):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.is_file() else ""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The JupyterLab server of this module, on copies of the notebooks; stopped at the end, pass or fail."""
    server = Lab(tmp_path_factory.mktemp("lab"))
    for name in WIDGET_NOTEBOOKS:
        target = server.notebooks / "solutions" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "solutions" / name, target)
    validate = server.notebooks / "validate"
    validate.mkdir(parents=True)
    shutil.copy(REPO / "solutions" / VALIDATED, validate / "solution_copy.ipynb")
    shutil.copy(REPO / "release" / VALIDATED, validate / "release_copy.ipynb")
    write_scratch_notebook(server.notebooks / SCRATCH)
    SCREENS.mkdir(parents=True, exist_ok=True)
    for old in SCREENS.glob("*.png"):
        old.unlink()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_S * 1000)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), timeout=UI_S * 1000,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_notebook(lab, browser):
    """open_notebook(path under the lab's folder) -> a page showing it in JupyterLab (1440x900, fresh layout)."""
    from playwright.sync_api import expect

    pages = []

    def open_(relative):
        context = browser.new_context(viewport=WINDOW)
        context.set_default_timeout(UI_S * 1000)
        page = context.new_page()
        pages.append(context)
        page.goto(f"{lab.url}/lab/tree/{relative}?reset&token={lab.token}")
        expect(page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first).to_be_visible()
        expect(page.get_by_role("button", name="Validate")).to_be_visible()  # the notebook toolbar is complete
        # the kernel is up (cells run before it is are not queued): the status bar says so, as a person sees it
        expect(page.get_by_text(re.compile(r"\| Idle$"))).to_be_visible(timeout=KERNEL_RUN_S * 1000)
        return page

    yield open_
    for context in pages:
        context.close()
    lab.shut_down_kernels()


# --- helpers on a page ---------------------------------------------------------------------------------------------


def go_to_cell(page, index):
    """Select cell `index` by clicking its prompt, as a person would; returns a locator of that cell.

    The lab's settings attach every cell to the page (windowingMode "none"): with JupyterLab's default, cells far
    from the view are not in the page at all, and moving to them by key presses proved fragile.
    """
    from playwright.sync_api import expect

    cell = page.locator(f'.jp-NotebookPanel .jp-Notebook .jp-Cell[data-windowed-list-index="{index}"]')
    cell.locator(".jp-InputPrompt").first.click()
    expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"))
    return cell


def widget_outputs(cell):
    """The outputs of `cell` drawn as widgets (a widget that is still loading, or shown as text, is not one)."""
    return cell.locator(".jp-OutputArea-output").filter(has=cell.page.locator(".jupyter-widgets"))


def check_rendered(cell, views, where):
    """Every widget view of `cell` is drawn as a widget: no error box, no text repr, a picture or controls."""
    from playwright.sync_api import expect

    expect(widget_outputs(cell)).to_have_count(views)
    expect(cell.get_by_text("Error displaying widget")).to_have_count(0)
    expect(cell.get_by_text(re.compile(r"^\w+\(children=\("))).to_have_count(0)
    for k in range(views):
        expect(widget_outputs(cell).nth(k).locator(".jupyter-widgets").first).to_be_visible()
    text = cell.locator(".jp-OutputArea-output").all_inner_texts()
    assert not any(re.match(r"\s*\w+\(children=", t) for t in text), f"{where}: a widget shown as text: {text}"


_FIRST_CONTROL = """node => {
    const root = node.querySelector('.jupyter-widgets');
    const row = Array.from(root.children).find(
        child => child.querySelector('input, select, textarea, button, [role=slider]')) || root;
    row.scrollIntoView({block: 'start'});
    return row.getBoundingClientRect().top;
}"""


def check_fits(page, output, where):
    """The widget's picture fits a 1440x900 window under its controls: with the first row of controls at the top of
    the notebook, the whole picture is in view (the caption above may be scrolled past), and none of it sideways."""
    panel = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer")
    picture = output.locator("img").last
    if picture.count() == 0:
        return  # a widget without a picture (not in this course today)
    output.scroll_into_view_if_needed()
    controls_top = output.evaluate(_FIRST_CONTROL)
    view, image = panel.bounding_box(), picture.bounding_box()
    assert image["width"] > 50 and image["height"] > 50, f"{where}: the picture is not drawn ({image})"
    assert image["x"] + image["width"] <= view["x"] + view["width"] + 1, f"{where}: the picture is wider than the page"
    height = image["y"] + image["height"] - controls_top
    if height > view["height"]:  # keep the evidence for the reviewer
        output.screenshot(path=str(SCREENS / f"{re.sub(r'[^A-Za-z0-9_]+', '-', where)}-TOO-TALL.png"))
    assert height <= view["height"], (
        f"{where}: controls and picture take {height:.0f} px, the notebook shows {view['height']:.0f} px of a "
        f"{WINDOW['width']}x{WINDOW['height']} window")
    REPORT.append(f"{where}: picture {image['width']:.0f}x{image['height']:.0f} px; controls and picture "
                  f"{height:.0f} px high of {view['height']:.0f} px")


def screenshot(output, name):
    output.scroll_into_view_if_needed()
    output.evaluate("node => node.scrollIntoView({block: 'start'})")
    path = SCREENS / f"{name}.png"
    output.screenshot(path=str(path))
    return path


def run_menu(page, menu, item):
    """Click a main-menu item, e.g. run_menu(page, "Run", "Run All Above Selected Cell")."""
    page.get_by_role("menuitem", name=menu, exact=True).click()
    page.get_by_role("menuitem", name=re.compile(rf"^{re.escape(item)}")).click()


def wait_until_run(cell, timeout_s=KERNEL_RUN_S):
    """Wait until `cell` has been executed (its prompt shows a number); raise with the prompt if not in time."""
    from playwright.sync_api import expect

    expect(cell.locator(".jp-InputArea-prompt")).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout_s * 1000)


def first_code_cell(path):
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")


def change_one_control(output):
    """Change one control of a live widget, as a person would: a slider moves one step, or a dropdown changes;
    a widget with a Run button (the style mixer) is then run. Returns what was done, in words."""
    what = _change(output)
    run = output.get_by_role("button", name="Run")
    if run.count():
        run.click()
        what += ", then Run"
    return what


def _change(output):
    slider = output.get_by_role("slider")
    if slider.count():
        handle = slider.first
        now, top = float(handle.get_attribute("aria-valuenow")), float(handle.get_attribute("aria-valuemax"))
        handle.focus()
        handle.press("ArrowLeft" if now >= top else "ArrowRight")
        return f"slider moved from {now:g}"
    dropdown = output.get_by_role("combobox").first
    options = dropdown.locator("option").all_inner_texts()
    current = dropdown.input_value()
    other = next(o for o in options if o != current)
    dropdown.select_option(label=other)
    return f"dropdown set to {other}"


# --- the tests -----------------------------------------------------------------------------------------------------


def test_lab_opens_for_self_study_without_news_or_instructor_tools(lab, open_notebook):
    from playwright.sync_api import expect

    page = open_notebook("validate/release_copy.ipynb")
    expect(page.get_by_role("menuitem", name="File", exact=True)).to_be_visible()
    expect(page.get_by_role("menuitem", name="Nbgrader")).to_have_count(0)  # formgrader, create assignment, lists
    expect(page.get_by_text(re.compile("official Jupyter news", re.I))).to_have_count(0)
    expect(page.locator(".jp-Notification-Toast")).to_have_count(0)
    page.get_by_role("menuitem", name="View", exact=True).click()
    expect(page.get_by_role("menuitem", name=re.compile("Create Assignment|Formgrader|Assignment List"))).to_have_count(0)
    page.keyboard.press("Escape")
    log = lab.log.read_text(errors="replace")
    assert "validate_assignment | extension was successfully loaded" in log, lab.log_tail()
    assert "formgrader | extension was successfully loaded" not in log
    assert "assignment_list | extension was successfully loaded" not in log
    assert "--allow-root" in log or os.geteuid() != 0  # as root, cnncourse lab says it added --allow-root


@pytest.mark.parametrize("name", WIDGET_NOTEBOOKS)
def test_widgets_render_fit_the_window_and_the_first_cell_is_quiet(name, lab, open_notebook):
    from playwright.sync_api import expect

    path = REPO / "solutions" / name
    stem = Path(name).stem
    cells = widget_cells(path)
    page = open_notebook(f"solutions/{name}")

    # the saved views: no kernel has run anything yet
    for index, views in cells:
        cell = go_to_cell(page, index)
        check_rendered(cell, views, f"{stem} cell {index} (saved view)")
        for k in range(views):
            output = widget_outputs(cell).nth(k)
            check_fits(page, output, f"{stem} cell {index} (saved view)")
            screenshot(output, f"{stem}-cell{index}-{k}" if views > 1 else f"{stem}-cell{index}")

    # a fresh kernel: no outputs, then the first cell, or every cell up to the last widget
    run_menu(page, "Edit", "Clear Outputs of All Cells")
    live = stem in LIVE
    if live:
        last = go_to_cell(page, cells[-1][0])
        run_menu(page, "Run", "Run All Above Selected Cell")
        page.keyboard.press("Shift+Enter")
        wait_until_run(last)
    first = go_to_cell(page, first_code_cell(path))
    if not live:
        page.keyboard.press("Shift+Enter")
    wait_until_run(first)
    expect(first.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')).to_have_count(0)
    assert "absl::InitializeLog" not in first.inner_text() and "oneDNN" not in first.inner_text()
    REPORT.append(f"{stem}: first cell ran without stderr")
    if not live:
        return

    for index, views in cells:
        check_live(page, index, views, stem, f"{stem}-cell{index}")


def check_live(page, index, views, where, name):
    """The live widgets of cell `index` render, redraw when a control changes and fit the window; screenshots."""
    from playwright.sync_api import expect

    cell = go_to_cell(page, index)
    check_rendered(cell, views, f"{where} cell {index} (live)")
    for k in range(views):
        output = widget_outputs(cell).nth(k)
        picture = output.locator("img").last
        expect(picture).to_have_attribute("src", re.compile(r"^blob:|^data:"))
        before = picture.get_attribute("src")
        what = change_one_control(output)
        expect(picture).not_to_have_attribute("src", before, timeout=KERNEL_RUN_S * 1000)
        expect(output.get_by_text(re.compile("Cannot (draw|run) this"))).to_have_count(0)
        check_fits(page, output, f"{where} cell {index} (live, {what})")
        screenshot(output, f"{name}-{k}" if views > 1 else name)
        REPORT.append(f"{where} cell {index}: live widget redrew after the {what}")


def test_widgets_behind_long_trainings_render_and_redraw_live(open_notebook):
    """The widgets that LIVE does not reach, built from small generated inputs in a scratch notebook."""
    page = open_notebook(SCRATCH)
    last = go_to_cell(page, len(SCRATCH_CELLS))
    run_menu(page, "Run", "Run All Cells")
    wait_until_run(last)
    for index, name in enumerate(SCRATCH_CELLS, start=1):
        check_live(page, index, 1, "scratch", f"live-{name}")


@pytest.mark.parametrize("copy, expected", [
    ("solution_copy", "Success! Your notebook passes all the tests."),
    ("release_copy", "NotImplementedError"),
])
def test_validate_reports_success_or_the_missing_code(copy, expected, open_notebook):
    from playwright.sync_api import expect

    page = open_notebook(f"validate/{copy}.ipynb")
    page.get_by_role("button", name="Validate").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(expected, timeout=VALIDATE_S * 1000)
    dialog.screenshot(path=str(SCREENS / f"validate-{copy}.png"))
    REPORT.append(f"Validate on {copy} of {VALIDATED}: {expected}")
