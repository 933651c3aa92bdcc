"""Files downloaded on first use: where they live, how they arrive, how they are checked.

A file is fetched into the cache folder only once. It is streamed into a
temporary file in the same folder while its MD5 is computed, and renamed into
place (``os.replace``, atomic) only when the checksum matches the published
one: an interrupted or corrupted download leaves nothing behind, and a file
present under its final name is always complete.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path
from typing import Sequence

from minidl.data.files import atomic_write

CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's MD5 is not the published one (a corrupted, partial or different file)."""


class DownloadError(RuntimeError):
    """No mirror could deliver a file (no network, or every mirror failed)."""


def data_home(root: str | os.PathLike | None = None) -> Path:
    """The folder for downloaded data: ``root`` if given, else ``$MINIDL_DATA_DIR``,
    else ``$XDG_CACHE_HOME/minidl``, else ``~/.cache/minidl``.

    >>> import os
    >>> str(data_home("/tmp/my-data"))
    '/tmp/my-data'
    """
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("MINIDL_DATA_DIR"):
        return Path(os.environ["MINIDL_DATA_DIR"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "minidl"


def md5_of(path: str | os.PathLike) -> str:
    """The hexadecimal MD5 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)  # an integrity check, not security
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, md5: str) -> None:
    """Raise `ChecksumError` unless ``path`` has the MD5 ``md5``."""
    found = md5_of(path)
    if found != md5:
        raise ChecksumError(
            f"{path} has MD5 {found}, but the published checksum is {md5}: the file is corrupted, "
            f"truncated or not the expected one. Delete it and load again to download a fresh copy."
        )


def fetch(filename: str, md5: str, folder: Path, mirrors: Sequence[str], download: bool = True) -> Path:
    """The path of ``folder/filename``, downloading it from the first working mirror if absent.

    The file, present or downloaded, is checked against ``md5``. When it is
    absent and cannot be downloaded, the error lists every URL tried and says
    where to put the file by hand.
    """
    target = folder / filename
    if target.exists():
        verify(target, md5)
        return target
    urls = [mirror.rstrip("/") + "/" + filename for mirror in mirrors]
    by_hand = (f"download {' or '.join(urls)} yourself and put it at {target} "
               f"(or point MINIDL_DATA_DIR / root= at a folder that holds it)")
    if not download:
        raise FileNotFoundError(f"{target} does not exist and download=False; {by_hand}")
    failures = []
    for url in urls:
        try:
            _download(url, target, md5)
            return target
        except (OSError, ChecksumError) as error:  # urllib's URLError is an OSError
            failures.append(f"  {url}: {error}")
    raise DownloadError(f"could not download {filename}:\n" + "\n".join(failures) + f"\nWithout network, {by_hand}")


def _download(url: str, target: Path, md5: str, timeout: float = 30.0) -> None:
    """Stream ``url`` into a temporary file beside ``target``; rename it only if its MD5 is ``md5``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.md5(usedforsecurity=False)
    with atomic_write(target) as out, urllib.request.urlopen(url, timeout=timeout) as response:
        for chunk in iter(lambda: response.read(CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
        if digest.hexdigest() != md5:  # raising here deletes the temporary file
            raise ChecksumError(f"downloaded data has MD5 {digest.hexdigest()}, expected {md5}")
