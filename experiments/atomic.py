"""Writes that never leave half a file: a temporary file in the same folder, then a rename.

* :func:`write_text`, :func:`write_json`: the whole file or nothing (``os.replace`` is atomic on
  one file system, so a reader sees the old file or the new one, never a truncated one);
* :func:`replace_folder`: move a finished folder into place (the previous one, if any, is moved
  aside first and removed after: two renames);
* :func:`interrupts_deferred`: a block that a Ctrl-C cannot cut in two (the signal is held and
  delivered when the block ends), for the moments where results are moved into place.
"""
from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import tempfile
import threading

__all__ = ["interrupts_deferred", "replace_folder", "write_json", "write_text"]


def _file_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file (0o666 less the umask)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


_MODE = _file_mode()


def write_text(path, text: str) -> pathlib.Path:
    """Write ``text`` to ``path`` atomically (a temporary file beside it, then a rename)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _MODE)  # mkstemp makes the file private; a result file is not
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_json(path, obj) -> pathlib.Path:
    """:func:`write_text` of ``obj`` as indented JSON (values JSON cannot hold become strings)."""
    return write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


def replace_folder(src, dst) -> pathlib.Path:
    """Move the folder ``src`` to ``dst``, replacing what ``dst`` held: the old folder is renamed
    aside, ``src`` renamed into place, then the old one removed."""
    src, dst = pathlib.Path(src), pathlib.Path(dst)
    old = None
    if dst.exists():
        old = src.with_name(f"{src.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return dst


@contextlib.contextmanager
def interrupts_deferred():
    """Hold SIGINT for the duration of the block (in the main thread, where Python handles it);
    a Ctrl-C pressed meanwhile takes effect when the block ends."""
    can_block = (hasattr(signal, "pthread_sigmask")
                 and threading.current_thread() is threading.main_thread())
    if not can_block:
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
