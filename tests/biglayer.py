"""A layer of many empty files, written fast (ustar headers by hand), for explain's memory test."""

from __future__ import annotations

import gzip
import hashlib
import io

def empty_files_tar(count: int) -> tuple[bytes, str]:
    """A gzip'd tar of `count` empty regular files (ustar headers built by hand: fast), and its
    diff_id (the uncompressed tar is never held whole)."""
    diff = hashlib.sha256()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0) as gz:
        base = bytearray(512)
        base[100:108] = b"0000644\0"; base[108:116] = b"0000000\0"; base[116:124] = b"0000000\0"
        base[124:136] = b"00000000000\0"; base[136:148] = b"00000000001\0"; base[156:157] = b"0"
        base[257:265] = b"ustar\x0000"
        base[148:156] = b"        "
        base_sum = sum(base)
        tail = bytes(base[13:148]), bytes(base[156:])
        batch = []
        for i in range(count):
            name = b"d%03d/f%07d" % (i % 1000, i)  # 13 bytes
            batch.append(name + tail[0] + b"%06o\0 " % (base_sum + sum(name)) + tail[1])
            if len(batch) == 4096:
                data = b"".join(batch)
                diff.update(data)
                gz.write(data)
                batch = []
        data = b"".join(batch) + bytes(1024)
        diff.update(data)
        gz.write(data)
    return out.getvalue(), "sha256:" + diff.hexdigest()
