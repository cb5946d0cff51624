"""Whether an output folder can be written, checked before any work starts.

A run or a sweep writes its folder at the end, or as it goes; a place that cannot take it
(under a file, behind a dangling symbolic link, on a read-only or virtual file system such
as ``/proc``) must be refused before the simulation, not after it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError, Problem


def check_writable(path: str | Path, flag: str = "--out") -> None:
    """Refuse an output folder that drsim could not create or fill, before any work.

    The folder may exist (empty: a run takes its place) or not yet (it and missing parents
    are made when written). Refused, as :class:`InputError` naming ``flag``: a symbolic link
    (dangling, or to a folder: give the folder itself), a path under a file or a dangling
    link, and a place where no folder can be made (read-only, ``/proc``, a name too long).
    The test makes an empty folder beside the target and removes it at once.
    """
    path = Path(path)

    def refuse(message: str) -> InputError:
        return InputError(Problem(flag, None, "", message))

    try:
        _check(path, refuse)
    except OSError as e:  # e.g. a name too long for the file system
        raise refuse(f"cannot write {path}: {e.strerror or e}") from None


def _check(path: Path, refuse) -> None:
    if path.is_symlink():
        target = os.readlink(path)
        if not path.exists():
            raise refuse(f"{path} is a symbolic link to {target}, which does not exist")
        raise refuse(f"{path} is a symbolic link (to {target}); give the folder itself, e.g. {path.resolve()}")
    probe = path.parent
    while not probe.exists() and probe != probe.parent:
        if probe.is_symlink():
            raise refuse(f"cannot make {path}: {probe} is a symbolic link to {os.readlink(probe)}, which does not exist")
        probe = probe.parent
    if not probe.is_dir():
        raise refuse(f"cannot make {path}: {probe} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{path.name}.check-", dir=probe))
    except OSError as e:
        raise refuse(f"cannot write {path}: {e.strerror or e} in {probe}") from None
