"""Files written whole or not at all: the one way minidl writes a file a user keeps.

Saved models (``md.save``) and downloaded datasets both go through
`atomic_write()`, so an interrupted write never leaves half a file where a
good one was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """A binary stream to a temporary file beside ``path``, renamed over ``path`` when the block succeeds.

    ``os.replace`` is atomic: readers see the old file or the complete new
    one, never a half-written file. If the block raises, the temporary file
    is deleted and ``path`` is untouched.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())  # on disk before the rename makes it visible
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise



def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
