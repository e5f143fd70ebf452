"""Saving and loading fitted models without pickle: numpy arrays in a zip archive, everything else as JSON.

The contract every fitted component follows
-------------------------------------------
* ``to_state() -> dict`` exports the fitted state. Its values are numpy
  arrays of numbers, booleans or dates, scipy.sparse CSR matrices, JSON values
  (None, bool, int, float, str and lists or dicts of them; an array of
  objects or strings becomes a list), or the state of a sub-component (a dict again).
* the classmethod ``from_state(state)`` rebuilds an object that answers
  exactly as the fitted one did (scores equal to the last bit: the same
  arrays, the same numpy operations).
* the class that answers (``from_state``, ``decision``/``score``,
  ``recommend``, ``transform`` ...) imports only numpy and scipy.sparse; the
  scikit-learn estimator that fits it subclasses it and adds ``fit``
  (:class:`~recommender.meet.pair_scorer.PairScorer` /
  :class:`~recommender.meet.ranker.PairRanker`,
  :class:`~recommender.profile_vectors.ProfileVectors` /
  :class:`~recommender.similarity.ProfileModel`,
  :class:`~recommender.meet.scoring.MeetScorer` /
  :class:`~recommender.meet.model.MeetModel`,
  :class:`~recommender.refer.routes.RouteAnswers` /
  :class:`~recommender.refer.router.Router`). So a cached model loads and
  answers without importing scikit-learn.

A new ranker (another estimator, interaction features, trees) keeps the
contract: its fitted arrays go into ``PairScorer.to_state`` under its
``kind_``, and ``PairScorer.decision`` gains the numpy code that scores with
them; raise :data:`MODEL_FORMAT_VERSION` whenever a state changes shape.

The file
--------
A zip archive (:func:`write_state`) with one ``.npy`` member per array (read
with ``allow_pickle=False``) and ``meta.json``: the header (format, version,
kind, fracnet version) and the state tree, in which an array is
``{"$array": member}`` and a CSR matrix ``{"$csr": {...}}``. Reading a file
runs no code from it: a foreign, truncated or tampered file is a
:class:`ModelFileError`, nothing else. A file of another
:data:`MODEL_FORMAT_VERSION` is refused (the cache refits).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from recommender.errors import FracnetError
from recommender.io.atomic import atomic_write

MODEL_FORMAT = "fracnet-model"


MODEL_FORMAT_VERSION = 16  # raised whenever a state changes shape (why: see git log)


_META = "meta.json"


class ModelFileError(FracnetError):
    """A saved model file is missing, corrupt, foreign or from another format version."""

    exit_code = 4


def params_of(obj) -> dict:
    """The estimator parameters of ``obj`` for its state: ``get_params()`` of a fitted estimator, or the
    parameters a loaded answering object was rebuilt with (:func:`set_params_of`)."""
    names = obj.__dict__.get("_param_names")
    if names is None:
        names = list(obj.get_params(deep=False))
    return {n: getattr(obj, n) for n in names}


def set_params_of(obj, params: dict) -> None:
    """Give a rebuilt ``obj`` the parameters of a state (and remember their names for its next state)."""
    obj.__dict__.update(params)
    obj.__dict__["_param_names"] = list(params)


def attributes_state(obj, names) -> dict:
    """The state of an answering object whose fitted state is plain attributes: its parameters and
    each of ``names`` it has (the inverse of :func:`from_attributes_state`)."""
    state = {"params": params_of(obj)}
    state.update({n: getattr(obj, n) for n in names if hasattr(obj, n)})
    return state


def from_attributes_state(cls, state: dict):
    """A ``cls`` rebuilt from :func:`attributes_state`'s ``state``, without running ``__init__``."""
    obj = cls.__new__(cls)
    set_params_of(obj, state["params"])
    for key, value in state.items():
        if key != "params":
            setattr(obj, key, value)
    return obj


# ---------------------------------------------------------------------------
# states <-> archive members
# ---------------------------------------------------------------------------


def _is_csr(value) -> bool:
    return getattr(value, "format", None) == "csr" and hasattr(value, "indptr")


def _json_scalar(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store a {type(value).__name__} in a model state")


def _flatten(value, path: str, arrays: dict):
    """The JSON form of ``value`` with its arrays moved to ``arrays`` (member name -> array)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or "/" in k or k.startswith("$"):
                raise TypeError(f"state key {k!r} at {path or 'the top'}: keys are strings without '/' or '$'")
            out[k] = _flatten(v, f"{path}/{k}" if path else k, arrays)
        return out
    if _is_csr(value):
        parts = {}
        for part in ("data", "indices", "indptr"):
            arrays[f"{path}.{part}"] = getattr(value, part)
            parts[part] = f"{path}.{part}"
        return {"$csr": {**parts, "shape": list(value.shape), "cls": type(value).__name__}}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":  # strings and None: JSON keeps them exactly
            return {"$objects": [_flatten(v, path, arrays) for v in value.tolist()]}
        if value.dtype.kind == "U":
            return {"$strings": value.tolist(), "dtype": value.dtype.str}
        if value.dtype.kind not in "biufcmM":  # numbers, booleans, dates and durations
            raise TypeError(f"state {path}: arrays of {value.dtype} are not stored")
        arrays[path] = value
        return {"$array": path}
    if isinstance(value, (list, tuple)):
        return [_flatten(v, path, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"state {path}: a {type(value).__name__} is not an array, a CSR matrix or a JSON value")


def _unflatten(node, read):
    if isinstance(node, list):
        return [_unflatten(v, read) for v in node]
    if not isinstance(node, dict):
        return node
    if "$array" in node:
        return read(node["$array"])
    if "$csr" in node:
        from scipy import sparse

        c = node["$csr"]
        cls = sparse.csr_array if c.get("cls") == "csr_array" else sparse.csr_matrix
        data, indices, indptr = read(c["data"]), read(c["indices"]), read(c["indptr"])
        m = cls((data, indices, indptr), shape=tuple(c["shape"]))
        m.indices, m.indptr = indices, indptr  # the stored index dtypes, not scipy's choice
        return m
    if "$strings" in node:
        return np.array(node["$strings"], dtype=node["dtype"])
    if "$objects" in node:
        values = node["$objects"]
        out = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):  # one by one: an element may itself be a list
            out[i] = v
        return out
    return {k: _unflatten(v, read) for k, v in node.items()}


def write_state(fh, kind: str, state: dict) -> None:
    """Write ``state`` (see the module docstring) as a fracnet model of ``kind`` to the binary file ``fh``."""
    from recommender import __version__

    arrays: dict = {}
    tree = _flatten(state, "", arrays)
    meta = {"format": MODEL_FORMAT, "version": MODEL_FORMAT_VERSION, "kind": kind, "fracnet": __version__,
            "state": tree}
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_META, json.dumps(meta, default=_json_scalar, ensure_ascii=False))
        for name, arr in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(arr), allow_pickle=False)


def read_state(fh, kind: str, path="the model file") -> dict:
    """The state a :func:`write_state` of ``kind`` wrote to the binary file ``fh``; ModelFileError otherwise."""
    try:
        with zipfile.ZipFile(fh) as zf:
            try:
                meta = json.loads(zf.read(_META))
            except KeyError:
                raise ModelFileError(f"{path} is not a fracnet model file") from None
            if not (isinstance(meta, dict) and meta.get("format") == MODEL_FORMAT):
                raise ModelFileError(f"{path} is not a fracnet model file")
            if meta.get("version") != MODEL_FORMAT_VERSION:
                raise ModelFileError(
                    f"{path} has model format version {meta.get('version')}, this fracnet reads {MODEL_FORMAT_VERSION}",
                    hint="fit the model again")
            if meta.get("kind") != kind:
                raise ModelFileError(f"{path} holds a {meta.get('kind')!r} model, expected {kind!r}")

            def read(name: str) -> np.ndarray:
                with zf.open(name + ".npy") as member:
                    return np.lib.format.read_array(member, allow_pickle=False)

            return _unflatten(meta["state"], read)
    except ModelFileError:
        raise
    except Exception as exc:  # truncated, corrupt, or not an archive at all
        raise ModelFileError(f"{path} is not a readable fracnet model file ({type(exc).__name__})",
                             hint="fit the model again") from None


# ---------------------------------------------------------------------------
# model files (``fracnet meet --save-model``)
# ---------------------------------------------------------------------------


def save_object(obj, path, kind: str) -> Path:
    """Write ``obj.to_state()`` as a model file of ``kind`` to ``path`` atomically (no temp file left on failure)."""
    state = obj.to_state()
    return atomic_write(Path(path), lambda fh: write_state(fh, kind, state))


def load_state(path, kind: str) -> dict:
    """The state in a model file of ``kind`` written by :func:`save_object`; ModelFileError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist", hint="fit a model and save it first")
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror}") from None
    with fh:
        return read_state(fh, kind, path)


#: The class that answers for each kind of model file (module, class name): imported only when one is loaded.
ANSWERING_CLASSES = {
    "MeetModel": ("recommender.meet.scoring", "MeetScorer"),
    "PairRanker": ("recommender.meet.pair_scorer", "PairScorer"),
    "ProfileModel": ("recommender.profile_vectors", "ProfileVectors"),
    "Router": ("recommender.refer.routes", "RouteAnswers"),
}


def load_object(path, kind: str, cls=None):
    """Load a model file of ``kind`` as ``cls`` (default: the kind's answering class, :data:`ANSWERING_CLASSES`)."""
    if cls is None:
        from importlib import import_module

        module, name = ANSWERING_CLASSES[kind]
        cls = getattr(import_module(module), name)
    return cls.from_state(load_state(path, kind))
