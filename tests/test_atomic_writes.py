"""Every file fracnet writes goes through recommender/io/atomic.py: no raw writes elsewhere in recommender/.

The walk reads each module with ``ast`` and lists the calls that write a file by hand: ``open`` in a
writing mode, ``write_text``/``write_bytes``, a frame's or figure's ``to_csv``/``to_excel``/
``to_parquet``/``savefig`` aimed at anything but the file handle the function was given, and the
temp-file-and-rename steps (``mkstemp``, ``os.replace``, ``shutil.copyfile``). The few places that
must do their own (SQLite files, the streaming batch writer) are listed below with the reason; a new
raw write anywhere else fails this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "recommender"

#: (module, call) -> why it writes by hand.
ALLOWED = {
    ("store/db.py", "os.replace"): "Store.backup: SQLite's online backup into a temp file, then a rename "
                                   "(the store sits below io/)",
    ("store/backup.py", "shutil.copyfile"): "restore: a database file copied beside the target, then renamed",
    ("store/backup.py", "os.replace"): "restore: the rename of that copy",
    ("sample.py", "tempfile.mkstemp"): "the default database built by SQLite at a temp path, then renamed",
    ("sample.py", "os.replace"): "the rename of that database",
    ("model_cache.py", "os.replace"): "renames a model file atomic_write wrote, once its SHA-256 is known",
    ("demo/generate.py", "tempfile.mkstemp"): "demo-data's probe that the folder is writable (removed at once)",
    ("io/uploads.py", "write_bytes"): "stages an uploaded file in a private temporary folder to read it",
    ("batch/writer.py", "tempfile.mkstemp"): "the streaming batch writer: appends blocks to a .partial file",
    ("batch/writer.py", "open"): "the streaming batch writer's .partial file",
    ("batch/writer.py", "to_csv"): "the streaming batch writer's blocks",
    ("batch/writer.py", "write_table"): "the streaming batch writer's Parquet blocks",
    ("batch/writer.py", "os.replace"): "the streaming batch writer's final rename",
    ("meet/persistence.py", "open"): "a member of the model zip, written inside the file atomic_write holds open",
    ("evaluation/links.py", "savefig"): "the ROC plot: still to move onto atomic_write (fig.savefig(fh, format=...))",
}

_FRAME_WRITES = {"to_csv", "to_excel", "to_parquet", "to_json", "savefig", "write_table"}
_PATH_WRITES = {"write_text", "write_bytes"}
_RENAMES = {("os", "replace"), ("os", "rename"), ("shutil", "copyfile"), ("shutil", "copy"), ("shutil", "move"),
            ("tempfile", "mkstemp")}


def _dotted(func) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    return func.attr if isinstance(func, ast.Attribute) else ""


def _mode(call: ast.Call) -> str:
    args = call.args[1:2] + [k.value for k in call.keywords if k.arg == "mode"]
    return next((a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)), "r")


def raw_writes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, call) of every hand-made file write in a module."""
    found = []

    def visit(node, params: set[str], depth: int = 0):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            # a nested function's (or lambda's) parameter is the handle atomic_write passes; a top-level
            # function's ``path`` parameter is not
            params = {a.arg for a in node.args.args + node.args.kwonlyargs} if depth else set()
            depth += 1
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else name
            if name in ("open", "os.fdopen", "io.open") or attr == "open" and name not in ("os.open",):
                if set(_mode(node)) & set("wax+"):
                    found.append((node.lineno, "open"))
            elif attr in _PATH_WRITES:
                found.append((node.lineno, attr))
            elif attr in _FRAME_WRITES:
                first = node.args[0] if node.args else None
                handed = isinstance(first, ast.Name) and first.id in params
                if first is not None and not handed:
                    found.append((node.lineno, attr))
            elif tuple(name.split(".")) in _RENAMES:
                found.append((node.lineno, name))
        for child in ast.iter_child_nodes(node):
            visit(child, params, depth)

    visit(tree, set())
    return found


def test_every_file_write_goes_through_io_atomic():
    stray = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "io/atomic.py":
            continue
        for line, call in raw_writes(ast.parse(path.read_text(encoding="utf-8"))):
            if (rel, call) not in ALLOWED:
                stray.append(f"recommender/{rel}:{line}: {call}")
    assert not stray, "write through recommender.io.atomic (atomic_write, atomic_write_many):\n" + "\n".join(stray)


def test_the_allow_list_is_still_needed():
    """An allowed raw write that is gone leaves the list: it never grows stale."""
    seen = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        seen |= {(rel, call) for _, call in raw_writes(ast.parse(path.read_text(encoding="utf-8")))}
    assert not set(ALLOWED) - seen, sorted(set(ALLOWED) - seen)


def test_the_walk_finds_each_kind_of_raw_write():
    src = '''
import os, shutil, tempfile
def a(p, df):
    open(p, "w").write("x")
    p.write_text("x")
    df.to_csv(p)
    os.replace("a", "b")
    fd, tmp = tempfile.mkstemp()
def ok(p, df):
    open(p).read()
    atomic_write(p, lambda fh: df.to_csv(fh, index=False))
    df.to_csv()
'''
    assert [c for _, c in raw_writes(ast.parse(src))] == ["open", "write_text", "to_csv", "os.replace",
                                                          "tempfile.mkstemp"]
