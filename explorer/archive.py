"""Bounds a checkpoint file must keep before torch.load reads it: a zip archive's directory (its size, its
entries' count, total and compression) or a legacy file's size, so that a small crafted file cannot make
the loader inflate or allocate gigabytes."""
from __future__ import annotations

import os
import zipfile
from typing import BinaryIO

from .i18n import tr
from .variants.base import MAX_PARAMETERS

# The largest network a config allows (MAX_PARAMETERS float32 weights, twice that for a VAE's two code
# heads: 400 MB) fits; the shipped checkpoints are under 2 MB.
MAX_CHECKPOINT_BYTES = 512 * 2**20
assert MAX_CHECKPOINT_BYTES > 2 * 4 * MAX_PARAMETERS
# The pickled record (format, config, metrics, history) is ≤ 16 kB in the shipped checkpoints. In memory a
# pickle grows — an empty dict is 1 byte on disk and 64 in memory — so it gets a bound of its own.
MAX_RECORD_BYTES = 16 * 2**20
RECORD_ENTRY = "data.pkl"
# torch.save writes one entry per tensor storage plus five of its own: 14 for the shipped ae.pt.
MAX_ENTRIES = 4096
MAX_DIRECTORY_BYTES = MAX_ENTRIES * 1024       # the zip's central directory, read before zipfile parses it
END_RECORD, ZIP64_LOCATOR, ZIP64_END_RECORD = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
END_RECORD_SIZE, ZIP64_LOCATOR_SIZE, ZIP64_END_RECORD_SIZE = 22, 20, 56
MAX_COMMENT = 0xFFFF


class ArchiveRefused(ValueError):
    """A checkpoint file breaks a bound or is damaged; the message says which, without the file's name."""


class ArchiveDamaged(ArchiveRefused):
    """The file's zip structure is broken (truncated, or not written whole)."""


def check_archive(handle: BinaryIO) -> None:
    """Refuse a file torch.load should not read: larger than MAX_CHECKPOINT_BYTES, or a zip whose directory
    is too large, lists too many entries or compresses any (torch.save stores them; DEFLATE can inflate a
    1 MB file to 250 MB) — stored entries add up to no more than the file — or whose record is too large.
    A legacy (pickle-header) file is bounded by its size alone. The handle is left where it was."""
    start = handle.tell()
    try:
        size = handle.seek(0, os.SEEK_END) - start
        if size > MAX_CHECKPOINT_BYTES:
            raise ArchiveRefused(tr("the file is {size}, larger than any checkpoint of a model here ({most} at most)",
                                    size=in_units(size), most=in_units(MAX_CHECKPOINT_BYTES)))
        handle.seek(start)
        if handle.read(2) == b"PK":
            _check_zip(handle, start, size)
    finally:
        handle.seek(start)


def _check_zip(handle: BinaryIO, start: int, size: int) -> None:
    directory = _directory_size(handle, start, size)
    if directory > MAX_DIRECTORY_BYTES:
        raise ArchiveRefused(tr("its zip directory is {size}, more than a checkpoint's {entries} entries need",
                                size=in_units(directory), entries=MAX_ENTRIES))
    handle.seek(start)
    try:
        with zipfile.ZipFile(handle) as archive:      # a file handed in stays open
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise ArchiveDamaged(tr("its zip directory cannot be read ({error})", error=exc)) from None
    if len(entries) > MAX_ENTRIES:
        raise ArchiveRefused(tr("it holds {count:,} zip entries; a checkpoint has at most {most}", count=len(entries),
                                most=MAX_ENTRIES))
    for entry in entries:
        if entry.compress_type != zipfile.ZIP_STORED:
            raise ArchiveRefused(tr("its entry {entry} is compressed (method {method}), and a compressed entry can "
                                    "inflate far beyond the file's size (torch.save stores every entry uncompressed)",
                                    entry=repr(entry.filename[:60]), method=entry.compress_type))
        if entry.file_size != entry.compress_size:
            raise ArchiveDamaged(tr("its entry {entry} claims {claimed:,} bytes but stores {stored:,}",
                                    entry=repr(entry.filename[:60]), claimed=entry.file_size,
                                    stored=entry.compress_size))
        if entry.filename.rsplit("/", 1)[-1] == RECORD_ENTRY and entry.file_size > MAX_RECORD_BYTES:
            raise ArchiveRefused(tr("its record ({entry}) is {size}; a checkpoint's settings and history take at "
                                    "most {most}", entry=RECORD_ENTRY, size=in_units(entry.file_size),
                                    most=in_units(MAX_RECORD_BYTES)))


def in_units(size: int) -> str:
    """'832 KiB', '512 MiB': a size as a message gives it."""
    if size >= 2**20:
        return f"{size / 2**20:,.0f} MiB"
    return f"{size / 2**10:,.0f} KiB" if size >= 2**10 else tr("{count} bytes", count=size)


def _directory_size(handle: BinaryIO, start: int, size: int) -> int:
    """Bytes of the zip's central directory, from its end record — or from the zip64 one where zipfile reads
    that instead (a locator and a record right before the end record) — before zipfile reads it into memory."""
    tail_length = min(size, END_RECORD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE + ZIP64_END_RECORD_SIZE)
    handle.seek(start + size - tail_length)
    tail = handle.read(tail_length)
    at = tail.rfind(END_RECORD)
    if at < 0 or at + END_RECORD_SIZE > len(tail):
        raise ArchiveDamaged(tr("no zip directory at its end"))
    directory = int.from_bytes(tail[at + 12:at + 16], "little")
    locator = at - ZIP64_LOCATOR_SIZE
    record = locator - ZIP64_END_RECORD_SIZE
    if record >= 0 and tail[locator:locator + 4] == ZIP64_LOCATOR and tail[record:record + 4] == ZIP64_END_RECORD:
        directory = int.from_bytes(tail[record + 40:record + 48], "little")
    return directory
