"""A zip writer whose memory stays flat however many files it holds (zipfile keeps every entry in a list).

The central directory is spooled to a temporary file while members are written, then copied to the end.
ZIP64 records are written when there are more than 65,535 members or an offset passes 4 GB, so a
transcript per respondent works for any number of respondents.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

LIMIT_16 = 0xFFFF
LIMIT_32 = 0xFFFFFFFF
UTF8_NAMES = 0x0800
DEFLATED = 8
VERSION = 45  # 4.5: ZIP64
MADE_BY_UNIX = 3 << 8
PRIVATE_FILE = (0o100600 << 16) & LIMIT_32  # a regular file only its owner can read: the content is personal
CHUNK = 1 << 20


def dos_time(moment: datetime) -> tuple[int, int]:
    """The (time, date) pair zip headers store; 2-second resolution, local wall-clock time."""
    year = min(max(moment.year, 1980), 2107)
    return (
        (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2),
        ((year - 1980) << 9) | (moment.month << 5) | moment.day,
    )


class StreamingZip:
    """Write members one after another into a seekable file; close() writes the directory."""

    def __init__(self, path: Path, modified: datetime, level: int = 6) -> None:
        self._out: BinaryIO = path.open("wb")
        self._directory: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._time, self._date = dos_time(modified)
        self._level = level
        self._count = 0

    def __enter__(self) -> StreamingZip:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._out.close()
            self._directory.close()

    def add_bytes(self, name: str, data: bytes) -> None:
        """A small member held in memory (one respondent's transcript)."""
        packer = zlib.compressobj(self._level, zlib.DEFLATED, -15)
        packed = packer.compress(data) + packer.flush()
        offset = self._out.tell()
        self._out.write(self._local_header(name, zlib.crc32(data), len(packed), len(data), zip64=False))
        self._out.write(packed)
        self._remember(name, zlib.crc32(data), len(packed), len(data), offset)

    def add_file(self, name: str, source: Path) -> None:
        """A member streamed from a file of any size; the header is patched once the sizes are known."""
        size = source.stat().st_size
        zip64 = size >= LIMIT_32 // 2  # deflate can grow incompressible data slightly: decide with room to spare
        offset = self._out.tell()
        self._out.write(self._local_header(name, 0, 0, size, zip64))
        packer = zlib.compressobj(self._level, zlib.DEFLATED, -15)
        crc, packed_size = 0, 0
        with source.open("rb") as reader:
            while chunk := reader.read(CHUNK):
                crc = zlib.crc32(chunk, crc)
                packed = packer.compress(chunk)
                packed_size += len(packed)
                self._out.write(packed)
        tail = packer.flush()
        packed_size += len(tail)
        self._out.write(tail)
        end = self._out.tell()
        self._out.seek(offset)
        self._out.write(self._local_header(name, crc, packed_size, size, zip64))
        self._out.seek(end)
        self._remember(name, crc, packed_size, size, offset)

    def _local_header(self, name: str, crc: int, packed: int, size: int, zip64: bool) -> bytes:
        """The header before each member's data."""
        encoded = name.encode("utf-8")
        extra = struct.pack("<HHQQ", 1, 16, size, packed) if zip64 else b""
        sizes = (LIMIT_32, LIMIT_32) if zip64 else (packed, size)
        return struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, VERSION, UTF8_NAMES, DEFLATED, self._time, self._date, crc, *sizes,
            len(encoded), len(extra),
        ) + encoded + extra

    def _remember(self, name: str, crc: int, packed: int, size: int, offset: int) -> None:
        """Spool the member's central directory record to disk, not to a list."""
        encoded = name.encode("utf-8")
        big = [value for value in (size, packed, offset) if value >= LIMIT_32]
        extra = struct.pack(f"<HH{len(big)}Q", 1, 8 * len(big), *big) if big else b""
        fields = [min(value, LIMIT_32) for value in (packed, size, offset)]
        self._directory.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, MADE_BY_UNIX | VERSION, VERSION, UTF8_NAMES, DEFLATED,
                self._time, self._date, crc, fields[0], fields[1], len(encoded), len(extra), 0, 0, 0,
                PRIVATE_FILE, fields[2],
            ) + encoded + extra
        )
        self._count += 1

    def close(self) -> None:
        """Copy the directory after the members, then the end records (ZIP64 ones when needed)."""
        start = self._out.tell()
        self._directory.seek(0)
        shutil.copyfileobj(self._directory, self._out, CHUNK)
        self._directory.close()
        size = self._out.tell() - start
        if self._count >= LIMIT_16 or start >= LIMIT_32 or size >= LIMIT_32:
            record = self._out.tell()
            self._out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, MADE_BY_UNIX | VERSION, VERSION, 0, 0,
                                        self._count, self._count, size, start))
            self._out.write(struct.pack("<IIQI", 0x07064B50, 0, record, 1))
        count = min(self._count, LIMIT_16)
        self._out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, min(size, LIMIT_32),
                                    min(start, LIMIT_32), 0))
        self._out.close()
