"""Writing files atomically: a temporary file in the destination folder, then a rename.

The temporary file is flushed to disk and then renamed over the
destination with :func:`os.replace`. The rename is atomic, so a reader (or
a crash) sees either the old file or the complete new one, never half of
one; the temporary file is removed if anything fails, KeyboardInterrupt
included. :func:`destination` checks a destination's extension first.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = [
    "atomic_path",
    "atomic_write",
    "destination",
]


def _check_destination(path: Path, force: bool) -> None:
    """Raise if ``path`` may not be written: exists without ``force``, or no folder."""
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a directory")
    if path.exists() and not force:
        raise FileExistsError(f"{str(path)!r} already exists (pass force=True to overwrite it)")
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {str(path)!r}: folder {str(parent)!r} does not exist"
        )


def _new_file_mode(path: Path) -> int:
    """Permissions the written file should get: the old file's, else per umask.

    ``mkstemp`` makes files readable by the owner only; a result that others
    cannot read would be a surprise, so the usual 0o666 & ~umask is applied.
    """
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``.

    The temporary name keeps ``path``'s suffix so that writers choosing the
    format from the extension choose the right one. On any exception
    (including KeyboardInterrupt) the temporary file is deleted and the
    destination is left as it was.
    """
    dest = Path(path)
    _check_destination(dest, force)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # Flush the bytes to disk before the rename, or a power cut could
        # leave a complete-looking name on an empty file.
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _new_file_mode(dest))
        if not force and dest.exists():  # appeared while we were writing
            raise FileExistsError(f"{str(dest)!r} already exists (pass force=True to overwrite it)")
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write(
    path: str | os.PathLike, write: Callable[[Path], None], *, force: bool = False
) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path, force=force) as tmp:
        write(tmp)


def destination(path: str | os.PathLike, allowed: tuple[str, ...], what: str) -> tuple[Path, str]:
    """``path`` as a Path and its lower-case extension, which must be in ``allowed``."""
    dest = Path(os.fspath(path))
    ext = dest.suffix.lower()
    if ext not in allowed:
        raise ValueError(
            f"cannot write {what}{str(dest)!r}: unsupported extension "
            f"{dest.suffix or '(none)'!r}; use one of {', '.join(allowed)}"
        )
    return dest, ext
