"""Read a submission's own code, in the grader, for what reaches past the exercises.

The judge (judge.py) keeps the VERDICT out of the kernel's reach, but the student's function still runs in a kernel
that holds working code: the course's references and twins, the checks' oracles. The tripwire (tripwire.py) catches a
graded function that calls them, from inside that kernel, where determined code can unwrap it
(`zero_pad.__wrapped__`, a closure's cells, a module loaded again from its file) or switch it off. This scan is the
part that the kernel cannot touch: it reads the notebook's source text, as the submission holds it, in the grader's
process, and names every construct that an exercise of this course never needs and that reaching past it does:

- the interpreter's machinery: `sys`, `inspect`, `gc`, `importlib`, `ctypes`, ... and IPython's (`get_ipython`),
  imported or reached as another module's attribute (`np.sys`), and loaders that run code stored in data
  (`allow_pickle=True`, `safe_mode=False`);
- attributes that unwrap or introspect (`__wrapped__`, `__closure__`, `__code__`, `f_back`, `cell_contents`, any
  other dunder but a few harmless ones), in code or in a string (`getattr(f, "__wrapped__")`), and `getattr` /
  `setattr` / `vars` / `globals` / `exec` / `eval` / `compile` with names or code that the text does not show;
- imports of the course's own package (the notebooks' locked cells import all that an exercise needs), and private
  names (`checks._oracle`) of what the notebook imported;
- monkeypatching: assigning or deleting an attribute of an imported module or class (`np.array_equal = ...`,
  `checks.PartialCredit.run = ...`), rebinding a name the course's cells imported (`checks = Anything()`), and
  classes that decide how their values compare (`__eq__`, `__array_ufunc__`, ...: a value that equals anything).

Only the student's code is read: a statement identical to one of the course's own notebook (a demonstration cell left
as it is, the stub's signature) is skipped. A finding does not change a score: the grader flags the notebook for a
person to read (a student may import `sys` for an honest reason). What it cannot see is code that builds the
forbidden construct out of parts the rules allow; every such route found so far needs one of the constructs above.
"""

import ast
from dataclasses import dataclass

# Modules that give access to the interpreter, the kernel, the files or other processes.
SENSITIVE_MODULES = frozenset({
    "sys", "inspect", "gc", "ctypes", "importlib", "builtins", "types", "marshal", "runpy", "code", "codeop", "dis",
    "pickle", "copyreg", "dill", "cloudpickle", "base64", "codecs", "zlib", "bz2", "lzma", "subprocess",
    "multiprocessing", "threading", "_thread", "signal", "atexit", "weakref", "IPython", "ipykernel", "jupyter_client",
    "nbformat", "nbgrader", "nbclient", "unittest", "pytest", "os", "shutil", "glob", "pathlib", "tempfile", "io",
    "sqlite3", "socket", "operator", "traceback",
})
# The same modules reached as an attribute of another one (`plt.sys.modules`, `keras.src.backend.config.os`), less the
# names that libraries use for modules of their own (`tf.io`, `tf.signal`, `tf.types`) or for plain attributes.
ATTRIBUTE_MODULES = SENSITIVE_MODULES - {"io", "code", "signal", "types", "operator"}
COURSE_PACKAGE = "cnncourse"
# Dunder attributes that ordinary code (a Keras layer class, a print) uses; every other one is introspection.
HARMLESS_DUNDERS = frozenset({"__init__", "__name__", "__qualname__", "__doc__", "__class__", "__call__", "__len__",
                              "__getitem__", "__iter__", "__next__", "__repr__", "__str__", "__module__"})
# Attributes of frames, tracebacks, generators and cells: reading the checks' memory or a guard's insides.
INTROSPECTION_ATTRIBUTES = frozenset({"f_back", "f_locals", "f_globals", "f_code", "f_builtins", "tb_frame",
                                      "tb_next", "gi_frame", "cr_frame", "ag_frame", "cell_contents", "co_code",
                                      "co_consts", "_getframe"})
# Switches that let a loader run Python code stored in data (Keras's, for a Lambda's marshalled function).
UNSAFE_ATTRIBUTES = frozenset({"enable_unsafe_deserialization"})
# Builtins that run code the text does not show or reach a namespace by a computed name.
DYNAMIC_BUILTINS = frozenset({"exec", "eval", "compile", "__import__", "globals", "locals", "vars", "breakpoint",
                              "get_ipython", "setattr", "delattr"})
# Builtins that are harmless with a literal attribute name and dynamic with any other argument.
NAMED_ATTRIBUTE_BUILTINS = frozenset({"getattr", "hasattr"})
# Keyword arguments with which a loader runs code stored in data (np.load, keras.saving.load_model, ...).
UNSAFE_LOADING = frozenset({("allow_pickle", True), ("safe_mode", False)})
# Special methods through which a value decides how it compares or converts: a value that equals anything.
COMPARISON_DUNDERS = frozenset({"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__float__",
                                "__int__", "__index__", "__array__", "__array_ufunc__", "__array_function__",
                                "__array_priority__", "__instancecheck__", "__subclasscheck__", "__hash__"})


@dataclass(frozen=True)
class Finding:
    """One construct of the student's code: the cell (its nbgrader grade_id, or "cell N"), the line in that cell
    (1-based), what was found (the code's text, short) and why it is not an exercise's business."""

    cell: str
    line: int
    what: str
    why: str

    def __str__(self):
        return f"{self.cell}, line {self.line}: {self.what} ({self.why})"


def _is_dunder(name):
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _suspicious_attribute(name):
    """Why an attribute name is introspection, or None."""
    if name in UNSAFE_ATTRIBUTES:
        return "switches on loading Python code along with data"
    if name in INTROSPECTION_ATTRIBUTES:
        return "reads a frame, code object or closure: the checks' memory or a guard's insides"
    if _is_dunder(name) and name not in HARMLESS_DUNDERS:
        return "a special attribute that unwraps or introspects"
    return None


def _root_name(node):
    """The Name at the root of an attribute chain (np.linalg.norm -> "np"), or None."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _short(node):
    text = ast.unparse(node).splitlines()[0] if node is not None else ""
    return text if len(text) <= 80 else text[:77] + "..."


def _imported_names(statement):
    """[(bound name, (module, imported attribute or None))] of an import statement."""
    if isinstance(statement, ast.Import):
        return [(alias.asname or alias.name.partition(".")[0], (alias.name if alias.asname else
                                                                alias.name.partition(".")[0], None))
                for alias in statement.names]
    if isinstance(statement, ast.ImportFrom):
        return [(alias.asname or alias.name, ("." * statement.level + (statement.module or ""), alias.name))
                for alias in statement.names]
    return []


class _Scanner(ast.NodeVisitor):
    """Collects the findings of one statement; `imported`: {name: what it imports} of the whole notebook, `course`:
    the same for the course's own cells."""

    def __init__(self, cell, imported, course):
        self.cell, self.imported, self.course, self.findings = cell, imported, course, []

    def add(self, node, why, what=None):
        self.findings.append(Finding(self.cell, getattr(node, "lineno", 1), what or _short(node), why))

    def visit_Import(self, node):
        self._imports(node, [alias.name for alias in node.names])

    def visit_ImportFrom(self, node):
        module = node.module or ""
        self._imports(node, [module] + [f"{module}.{alias.name}" for alias in node.names] if node.level == 0 else [])
        if node.level:
            self.add(node, "a relative import: a notebook has no package")

    def _imports(self, node, modules):
        tops = {name.partition(".")[0] for name in modules}
        if tops & SENSITIVE_MODULES:
            self.add(node, f"imports {', '.join(sorted(tops & SENSITIVE_MODULES))}: the interpreter's, the kernel's "
                           "or the files' machinery, which no exercise needs")
        elif COURSE_PACKAGE in tops:
            self.add(node, "imports the course's own package, which holds the answers and the checks; the course's "
                           "own cells import what the exercises need")

    def visit_Attribute(self, node):
        why = _suspicious_attribute(node.attr)
        if why:
            self.add(node, why)
        elif node.attr in ATTRIBUTE_MODULES:
            self.add(node, f"reaches {node.attr}, the interpreter's, the kernel's or the files' machinery, through "
                           "another module")
        elif node.attr.startswith("_") and not _is_dunder(node.attr) and _root_name(node) in self.imported:
            self.add(node, "a private name of an imported module: the course's internals, not its interface")
        self.generic_visit(node)

    def visit_Expr(self, node):
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.generic_visit(node)  # a bare string (a docstring) does nothing, whatever it names

    def visit_Name(self, node):
        if _is_dunder(node.id) and node.id not in HARMLESS_DUNDERS:
            self.add(node, "a special name of the interpreter")
        elif node.id in DYNAMIC_BUILTINS | NAMED_ATTRIBUTE_BUILTINS:  # not called here: handed on (map(getattr, ...))
            self.add(node, f"{node.id} handed on as a value, to be called with names that the text does not show")

    def visit_MatchClass(self, node):
        for name in node.kwd_attrs:  # `case object(__wrapped__=inner)` reads an attribute without a dot
            why = _suspicious_attribute(name)
            if why:
                self.add(node, why, f"{_short(node.cls)}({name}=...)")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, bytes):  # a pickle or marshal payload spells its names in bytes
            node = ast.Constant(node.value.decode("latin-1"), lineno=getattr(node, "lineno", 1))
        if isinstance(node.value, str):
            words = {w for w in node.value.replace(".", " ").replace("'", " ").replace('"', " ").split()}
            if any(_suspicious_attribute(word) for word in words) or ("__" in node.value and
                                                                      node.value not in HARMLESS_DUNDERS):
                self.add(node, "a string that names, or spells part of, an attribute which unwraps or introspects")
            elif any(word == COURSE_PACKAGE or word.startswith(COURSE_PACKAGE + ".") for word in
                     node.value.replace("'", " ").replace('"', " ").split()):
                self.add(node, "a string that names the course's own package")

    def visit_Call(self, node):
        function = node.func.id if isinstance(node.func, ast.Name) else None
        if function in DYNAMIC_BUILTINS:
            self.add(node, f"{function}() runs code or reaches names that the text does not show")
        for keyword in node.keywords:  # loading code with data: np.load's pickles, Keras's unsafe deserialisation
            if (keyword.arg, getattr(keyword.value, "value", None)) in UNSAFE_LOADING:
                self.add(node, f"{keyword.arg}={keyword.value.value!r} loads code along with data", _short(keyword))
        if function in NAMED_ATTRIBUTE_BUILTINS and not (
                len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            self.add(node, f"{function}() with an attribute name that the text does not show")
        if function in DYNAMIC_BUILTINS | NAMED_ATTRIBUTE_BUILTINS:  # its name is read above, not as a value
            for part in node.args + node.keywords:
                self.visit(part)
        else:
            self.generic_visit(node)

    def _targets(self, targets, node):
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and isinstance(part.ctx, (ast.Store, ast.Del)) and \
                        _root_name(part) in self.imported:
                    self.add(node, "changes an imported module or class (monkeypatching)", _short(part))

    def visit_Assign(self, node):
        self._targets(node.targets, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._targets([node.target], node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._targets([node.target], node)
        self.generic_visit(node)

    def visit_Delete(self, node):
        self._targets(node.targets, node)
        self.generic_visit(node)

    def visit_Global(self, node):
        rebound = [name for name in node.names if name in self.course]
        if rebound:
            self.add(node, f"rebinds {', '.join(rebound)} from inside a function: a name the course's cells import")

    def visit_ClassDef(self, node):
        for statement in node.body:
            names = [statement.name] if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) else \
                [t.id for t in getattr(statement, "targets", [getattr(statement, "target", None)])
                 if isinstance(t, ast.Name)]
            for name in set(names) & COMPARISON_DUNDERS:
                self.add(statement, f"class {node.name} decides how its values compare or convert ({name}): a value "
                                    "that can claim to equal anything", f"{node.name}.{name}")
        self.generic_visit(node)


def _rebinds_course_name(statement, course):
    """[(node, name)] for a top-level binding of a name that the course's cells import, other than the same import."""
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(statement, name) for name, what in _imported_names(statement) if name in course and
                course[name] != what]
    bound = []
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bound = [statement.name]
    elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.Delete)):
        targets = getattr(statement, "targets", None) or [getattr(statement, "target", None)] + \
            [item.optional_vars for item in getattr(statement, "items", [])]
        bound = [n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)]
    return [(statement, name) for name in bound if name in course]


def _statements(source):
    """The top-level statements of a cell's source as IPython runs it (a `%magic` or `!command` line becomes its
    get_ipython() call, which the scan then names), or None when it does not parse (it then runs nothing either)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 -- without IPython, or a cell it cannot transform: read the text as it is
        pass
    try:
        return ast.parse(source).body
    except (SyntaxError, ValueError):
        return None


def _is_course_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("locked") or meta.get("grade")) and not meta.get("solution")


def scan_notebook(nb, course_nb=None):
    """The findings of a submitted notebook's own code.

    Args:
        nb: the notebook (nbformat node or dict) as submitted or autograded.
        course_nb: the course's own version of it (its source notebook), or None. With it, every code cell of `nb` is
            read, and a top-level statement that also appears in one of the course's code cells is the course's and is
            skipped (nbgrader's restored grade and locked cells, a demonstration left as it is); cell metadata, which
            a student can edit outside JupyterLab, is not trusted. Without it, the locked and grade cells of `nb` are
            taken as the course's.
    Returns [Finding], in cell order.
    """
    reference = course_nb if course_nb is not None else nb
    course_cells = [cell for cell in reference.get("cells", []) if cell.get("cell_type") == "code"]
    course_statements, course_imports, imported = set(), {}, {}
    for cell in course_cells:
        for statement in _statements(_text(cell)) or []:
            imported.update(_imported_names(statement))
            if _is_course_cell(cell):
                course_imports.update(_imported_names(statement))
            if course_nb is not None:
                course_statements.add(ast.dump(statement))
    student_cells = [(index, cell) for index, cell in enumerate(nb.get("cells", []))
                     if cell.get("cell_type") == "code" and (course_nb is not None or not _is_course_cell(cell))]
    student_nodes = [node for _, cell in student_cells
                     for node in ast.walk(ast.Module(_statements(_text(cell)) or [], []))]
    for node in student_nodes:
        imported.update(_imported_names(node))
    for _ in range(3):  # aliases of imported things (`m = checks`, `n = np.linalg`), and aliases of those
        imported.update({target.id: ("alias", _root_name(node.value)) for node in student_nodes
                         if isinstance(node, ast.Assign) and _root_name(node.value) in imported
                         and isinstance(node.value, (ast.Name, ast.Attribute))
                         for target in node.targets if isinstance(target, ast.Name)})
    findings = []
    for index, cell in student_cells:
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
        statements = _statements(_text(cell))
        if statements is None:
            continue  # a cell that does not parse runs nothing (nbgrader shows its SyntaxError)
        for statement in statements:
            if ast.dump(statement) in course_statements:
                continue
            scanner = _Scanner(name, imported, course_imports)
            scanner.visit(statement)
            findings += scanner.findings
            findings += [Finding(name, node.lineno, _short(node), f"rebinds {rebound}, a name the course's cells "
                                                                     "import")
                         for node, rebound in _rebinds_course_name(statement, course_imports)]
    return findings


def _text(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def flag_rows(notebook_name, findings, most=5):
    """The grader's flag rows ([[notebook, flag id, message]]) for a notebook's findings: one row, naming the first
    `most` findings; [] when there are none."""
    if not findings:
        return []
    shown = "; ".join(str(finding) for finding in findings[:most])
    more = f"; and {len(findings) - most} more" if len(findings) > most else ""
    return [[notebook_name, f"{notebook_name}:code", f"the notebook's own code reaches past its exercises: {shown}{more}."
             " The scan changes no score; read these lines before trusting the grade (autograder/README.md, \"What the grader "
             "reads in the code\")"]]
