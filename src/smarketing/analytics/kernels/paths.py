"""The common aggregated path format: `path;total_conversions;total_conversion_value;total_null`.

Channels in a path are joined by ` > `; the first row is a header. Each row stands for `total_conversions +
total_null` journeys that followed the path. Errors name the line so analysts can fix their file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from smarketing.analytics.kernels.journeys import AttributionInputInvalid, Journeys
from smarketing.analytics.kernels.loops import jit
from smarketing.analytics.kernels.paths_scan import find_name, rehash, scan

if TYPE_CHECKING:
    import pyarrow as pa

SEPARATOR = " > "
HEADER = ("path", "total_conversions", "total_conversion_value", "total_null")


class PathsFileInvalid(AttributionInputInvalid):
    code = "paths_file_invalid"




@jit
def _split_points(data: np.ndarray, begin: int, end: int, sep: np.ndarray) -> int:
    """Number of separators in data[begin:end] (non-overlapping, left to right)."""
    k = sep.shape[0]
    n = 0
    i = begin
    while i <= end - k:
        if _sep_at(data, i, sep):
            n += 1
            i += k
        else:
            i += 1
    return n


@jit
def _sep_at(data: np.ndarray, i: int, sep: np.ndarray) -> bool:
    """Does the separator start at data[i] (the caller makes sure it fits)?"""
    if data[i] != sep[0]:
        return False
    for u in range(1, sep.shape[0]):  # noqa: SIM110 - a plain loop: Numba compiles no generator into all()
        if data[i + u] != sep[u]:
            return False
    return True


@jit
def _is_space(b: int) -> bool:
    return b == 32 or (9 <= b <= 13)


@jit
def _encode_rows(data: np.ndarray, offsets: np.ndarray, sep: np.ndarray, out_offsets: np.ndarray,
                 codes: np.ndarray, slot_hash: np.ndarray, slot_code: np.ndarray, name_start: np.ndarray,
                 name_len: np.ndarray, row: int, n_names: int) -> tuple[int, int]:
    """Encode rows from `row` on until done or until a row might fill the table past half; returns (next row,
    names so far). The table never grows here (growing arrays inside this loop would slow every token)."""
    rows = offsets.shape[0] - 1
    k = sep.shape[0]
    capacity = slot_code.shape[0]
    mask = capacity - 1
    for r in range(row, rows):
        a, b = offsets[r], offsets[r + 1]
        t = out_offsets[r]
        if a == b:
            continue
        if 2 * (n_names + out_offsets[r + 1] - t) > capacity:
            return r, n_names
        i = a
        while True:
            # The channel runs from i to the next separator (or the end of the string), trimmed of whitespace.
            stop = b
            j = i
            while j <= b - k:
                if _sep_at(data, j, sep):
                    stop = j
                    break
                j += 1
            lo, hi = i, stop
            while lo < hi and _is_space(data[lo]):
                lo += 1
            while hi > lo and _is_space(data[hi - 1]):
                hi -= 1
            code, s, h = find_name(data, lo, hi, slot_hash, slot_code, name_start, name_len, mask)
            if code < 0:
                code = n_names
                name_start[code], name_len[code] = lo, hi - lo
                slot_hash[s], slot_code[s] = h, code
                n_names += 1
            codes[t] = code
            t += 1
            if stop == b:
                break
            i = stop + k
    return rows, n_names


@jit
def _encode(data: np.ndarray, offsets: np.ndarray, sep: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split every string at `sep`, trim each channel's surrounding whitespace and number the channels in order of
    first appearance: (journey offsets, codes, first byte and length of each channel's name).

    Channels are found through an open-addressing table keyed by their FNV-1a hash; names are compared byte by
    byte on a hash match, so two channels never share a code."""
    rows = offsets.shape[0] - 1
    out_offsets = np.zeros(rows + 1, dtype=np.int64)
    for r in range(rows):
        a, b = offsets[r], offsets[r + 1]
        out_offsets[r + 1] = out_offsets[r] + (0 if a == b else 1 + _split_points(data, a, b, sep))
    codes = np.empty(out_offsets[-1], dtype=np.int32)
    capacity = 64
    slot_hash = np.zeros(capacity, dtype=np.uint64)
    slot_code = np.full(capacity, -1, dtype=np.int64)
    name_start = np.empty(capacity, dtype=np.int64)
    name_len = np.empty(capacity, dtype=np.int64)
    row, n_names = 0, 0
    while True:
        row, n_names = _encode_rows(data, offsets, sep, out_offsets, codes, slot_hash, slot_code, name_start,
                                    name_len, row, n_names)
        if row == rows:
            break
        # Grow until the next row fits in a half-full table, and re-insert the names.
        need = n_names + out_offsets[row + 1] - out_offsets[row]
        while 2 * need > capacity:
            capacity *= 2
        slot_hash, slot_code = rehash(slot_hash, slot_code, capacity)
        name_start = np.concatenate((name_start, np.empty(capacity - name_start.shape[0], dtype=np.int64)))
        name_len = np.concatenate((name_len, np.empty(capacity - name_len.shape[0], dtype=np.int64)))
    return out_offsets, codes, name_start[:n_names].copy(), name_len[:n_names].copy()


def journeys_from_path_strings(paths: Sequence[str] | pa.Array | pa.ChunkedArray, conversions: np.ndarray,
                               value: np.ndarray, nulls: np.ndarray, *, separator: str = SEPARATOR) -> Journeys:
    """Encode path strings to integer codes in one compiled pass over Arrow's UTF-8 buffer (no Python strings per
    channel). An empty string is a journey without touches."""
    import pyarrow as pa  # loads here: the file reader does without it

    arr = paths if isinstance(paths, pa.Array | pa.ChunkedArray) else pa.array(paths, type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    if arr.null_count:
        row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise AttributionInputInvalid(f"path {row} is missing", field="path", record=f"row {row}")
    if not separator:
        raise AttributionInputInvalid("the channel separator is empty", field="separator")
    _, offset_buf, data_buf = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(offset_buf, dtype=width)[arr.offset: arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    sep = np.frombuffer(separator.encode(), dtype=np.uint8)
    j_offsets, codes, starts, lens = _encode(data, offsets, sep)
    names = tuple(data[a: a + n].tobytes().decode("utf-8") for a, n in zip(starts.tolist(), lens.tolist(),
                                                                           strict=True))
    return Journeys(offsets=j_offsets, codes=codes, names=names,
                    conversions=np.ascontiguousarray(conversions, dtype=np.float64),
                    value=np.ascontiguousarray(value, dtype=np.float64),
                    nulls=np.ascontiguousarray(nulls, dtype=np.float64))


def _number(text: str, line: int, column: str, source: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise PathsFileInvalid(f"{source} line {line}: {column} must be a number, got {text.strip()!r}",
                               field=column, record=f"line {line}") from None
    if not math.isfinite(x) or x < 0:
        raise PathsFileInvalid(f"{source} line {line}: {column} must be a finite number ≥ 0, got {text.strip()!r}",
                               field=column, record=f"line {line}")
    return x


def parse_paths(lines: Iterable[str], *, source: str = "paths") -> Journeys:
    """Parse the path format; a malformed row raises PathsFileInvalid naming its line."""
    paths: list[str] = []
    conv: list[float] = []
    val: list[float] = []
    nul: list[float] = []
    saw_header = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        cells = line.split(";")
        if not saw_header:
            saw_header = True
            if tuple(c.strip().lower() for c in cells) != HEADER:
                raise PathsFileInvalid(f"{source} line {number}: expected the header {';'.join(HEADER)!r}, "
                                       f"got {line!r}", field="header", record=f"line {number}")
            continue
        if len(cells) != 4:
            raise PathsFileInvalid(f"{source} line {number}: expected 4 fields separated by ';' "
                                   f"({';'.join(HEADER)}), got {len(cells)}", field="path", record=f"line {number}")
        path = cells[0].strip()
        channels = [c.strip() for c in path.split(">")]
        if not path or any(not c for c in channels):
            raise PathsFileInvalid(f"{source} line {number}: the path has an empty channel: {path!r}",
                                   field="path", record=f"line {number}")
        c = _number(cells[1], number, "total_conversions", source)
        v = _number(cells[2], number, "total_conversion_value", source)
        n = _number(cells[3], number, "total_null", source)
        if c + n == 0:
            raise PathsFileInvalid(f"{source} line {number}: total_conversions and total_null are both 0, "
                                   "so the row stands for no journey", field="total_null", record=f"line {number}")
        paths.append(" > ".join(channels))
        conv.append(c)
        val.append(v)
        nul.append(n)
    if not saw_header:
        raise PathsFileInvalid(f"{source} is empty: expected the header {';'.join(HEADER)!r} and rows",
                               field="header")
    if not paths:
        raise PathsFileInvalid(f"{source} has a header but no paths", field="path")
    return journeys_from_path_strings(paths, np.array(conv), np.array(val), np.array(nul))


def read_paths(data: bytes, *, source: str = "paths") -> Journeys:
    """Read the path format in one compiled pass over the file's bytes (no Python string per row or channel).
    Anything that pass does not take as it is (a malformed row, a line break other than LF or CRLF, a number that is
    not a plain decimal, a channel with Unicode spaces around it) is left to the line reader `parse_paths`: it
    either reads the row as before or raises the error naming the line. So both routes accept the same files and
    give the same answers and messages."""
    fast = _read_compiled(data)
    if fast is not None:
        return fast
    return parse_paths(data.decode("utf-8-sig", errors="replace").splitlines(), source=source)


# Characters Python's str.splitlines() breaks a line at besides LF and CRLF: a line holding one is the line
# reader's to split.
_OTHER_LINE_BREAKS = frozenset("\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _header_end(data: bytes) -> int | None:
    """Where the rows start: just after the header (the first line that is not blank), or None when the header is
    missing or wrong, or anything before it is not plain (the line reader then names the problem)."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            return None  # a header alone, or no header: no rows to read either way
        try:
            line = data[start:end].decode("utf-8").removesuffix("\r")
        except UnicodeDecodeError:
            return None
        if not _OTHER_LINE_BREAKS.isdisjoint(line):
            return None
        if line.strip():
            return end + 1 if tuple(c.strip().lower() for c in line.split(";")) == HEADER else None
        start = end + 1


def _read_compiled(data: bytes) -> Journeys | None:
    """The compiled read, or None when the line reader must decide (it either accepts the file or names the bad
    line)."""
    pos = _header_end(data)
    if pos is None:
        return None
    scanned = scan(np.frombuffer(data, np.uint8), pos)
    if scanned is None:
        return None
    offsets, codes, conv, val, nul, starts, lens, by_python = scanned
    # Counts that are not plain decimals (exponents, underscores, Unicode spaces…) are read as the line reader
    # reads them, with float().
    for row, a, b in by_python.reshape(-1, 3).tolist():
        line = data[a:b].decode("utf-8", errors="replace").rstrip("\r\n")
        if not _OTHER_LINE_BREAKS.isdisjoint(line):
            return None
        try:
            c, v, n = (float(cell) for cell in line.split(";")[1:])
        except ValueError:
            return None
        if not all(math.isfinite(x) and x >= 0 for x in (c, v, n)) or c + n == 0:
            return None
        conv[row], val[row], nul[row] = c, v, n
    names = []
    for a, n in zip(starts.tolist(), lens.tolist(), strict=True):
        try:
            name = data[a: a + n].decode("utf-8")
        except UnicodeDecodeError:
            return None
        # Python's strip() also trims Unicode spaces, which the compiled scan leaves: the line reader decides.
        if name != name.strip() or not _OTHER_LINE_BREAKS.isdisjoint(name):
            return None
        names.append(name)
    return Journeys(offsets=offsets, codes=codes, names=tuple(names), conversions=conv, value=val, nulls=nul)


def read_paths_file(path: Path) -> Journeys:
    """Read a paths file from disk (one compiled pass over its bytes; see `read_paths`)."""
    if not path.is_file():
        raise PathsFileInvalid(f"paths file {str(path)!r} does not exist", field="paths")
    return read_paths(path.read_bytes(), source=path.name)
