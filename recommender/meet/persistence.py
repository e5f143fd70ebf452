"""Saving and loading fitted models: a pickle behind a header naming the format, its version, the kind and the fracnet version.

Model classes pickle their module paths, so :data:`MODEL_FORMAT_VERSION` is
raised whenever a class moves or changes shape; a cache of another version is
refitted, never half-read.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from recommender.errors import FracnetError
from recommender.io.atomic import atomic_write

MODEL_FORMAT = "fracnet-model"


MODEL_FORMAT_VERSION = 11  # raised whenever a pickled class moves or changes shape (why: see git log)


class ModelFileError(FracnetError):
    """A saved model file is missing, corrupt, foreign or from another format version."""

    exit_code = 4


def save_object(obj, path, kind: str) -> Path:
    """Pickle ``obj`` with a header (format, version, kind) to ``path`` atomically.

    Only load model files you wrote yourself: pickle runs code on load.
    """
    from recommender import __version__

    header = {"format": MODEL_FORMAT, "version": MODEL_FORMAT_VERSION, "kind": kind, "fracnet": __version__}

    def write(fh):
        pickle.dump(header, fh, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)

    return atomic_write(Path(path), write)  # a failed pickle leaves no temp file and the old file as it was


def load_object(path, kind: str):
    """Load what :func:`save_object` wrote, checking the header; ModelFileError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist", hint="fit a model and save it first")
    try:
        with open(path, "rb") as fh:
            header = pickle.load(fh)
            if not (isinstance(header, dict) and header.get("format") == MODEL_FORMAT):
                raise ModelFileError(f"{path} is not a fracnet model file")
            if header.get("version") != MODEL_FORMAT_VERSION:
                raise ModelFileError(
                    f"{path} has model format version {header.get('version')}, this fracnet reads {MODEL_FORMAT_VERSION}",
                    hint="fit the model again")
            if header.get("kind") != kind:
                raise ModelFileError(f"{path} holds a {header.get('kind')!r} model, expected {kind!r}")
            obj = pickle.load(fh)
    except ModelFileError:
        raise
    except Exception as exc:  # truncated, corrupt, or not a pickle at all
        raise ModelFileError(f"{path} is not a readable fracnet model file ({type(exc).__name__})",
                             hint="fit the model again") from None
    return obj
