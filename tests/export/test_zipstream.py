"""The streaming zip: any number of members (ZIP64 past 65,535), read back by Python's zipfile and by unzip."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from storage.export.zipstream import StreamingZip

WHEN = datetime(2020, 12, 1, 10, 0, 4)


def test_more_members_than_a_plain_zip_can_count_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with StreamingZip(path, WHEN) as archive:
        for index in range(70_000):
            archive.add_bytes(f"transcripts/R-{index:06d}.txt", f"line {index}\nünïcode 🙂\n".encode())
    with zipfile.ZipFile(path) as readback:
        assert readback.testzip() is None
        names = readback.namelist()
        assert len(names) == 70_000 and names[-1] == "transcripts/R-069999.txt"
        assert readback.read("transcripts/R-069999.txt").decode() == "line 69999\nünïcode 🙂\n"
        info = readback.getinfo(names[0])
        assert info.date_time == (2020, 12, 1, 10, 0, 4)
        assert info.external_attr >> 16 == 0o100600  # personal data: owner-only when unpacked


def test_a_member_streamed_from_a_file_gets_its_real_sizes_and_checksum(tmp_path: Path) -> None:
    source = tmp_path / "transcripts.jsonl"
    source.write_bytes(b"".join(f'{{"n": {n}, "text": "caf\\u00e9"}}\n'.encode() for n in range(200_000)))
    path = tmp_path / "one.zip"
    with StreamingZip(path, WHEN) as archive:
        archive.add_bytes("first.txt", b"first")
        archive.add_file("transcripts.jsonl", source)
    with zipfile.ZipFile(path) as readback:
        assert readback.testzip() is None
        assert readback.read("transcripts.jsonl") == source.read_bytes()
        assert readback.getinfo("transcripts.jsonl").compress_size < source.stat().st_size // 5


@pytest.mark.skipif(shutil.which("unzip") is None and os.environ.get("CI") != "true",
                    reason="the unzip tool is not installed (apt-get install unzip); in CI it must run")
def test_unzip_accepts_it(tmp_path: Path) -> None:
    path = tmp_path / "tool.zip"
    with StreamingZip(path, WHEN) as archive:
        archive.add_bytes("a.txt", b"a" * 1000)
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "No errors" in result.stdout
