"""The common aggregated path format: `path;total_conversions;total_conversion_value;total_null`.

Channels in a path are joined by ` > `; the first row is a header. Each row stands for `total_conversions +
total_null` journeys that followed the path. Errors name the line so analysts can fix their file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from smarketing.analytics.kernels.journeys import AttributionInputInvalid, Journeys
from smarketing.analytics.kernels.loops import jit, same_run

SEPARATOR = " > "
HEADER = ("path", "total_conversions", "total_conversion_value", "total_null")


class PathsFileInvalid(AttributionInputInvalid):
    code = "paths_file_invalid"


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


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
            h = _FNV_OFFSET
            for u in range(lo, hi):
                h = (h ^ np.uint64(data[u])) * _FNV_PRIME
            s = np.int64(h & np.uint64(mask))
            code = -1
            while slot_code[s] >= 0:
                if slot_hash[s] == h:
                    c = slot_code[s]
                    if name_len[c] == hi - lo and same_run(data, name_start[c], lo, hi - lo):
                        code = c
                        break
                s = (s + 1) & mask
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
        mask = capacity - 1
        new_hash = np.zeros(capacity, dtype=np.uint64)
        new_code = np.full(capacity, -1, dtype=np.int64)
        for old in range(slot_code.shape[0]):
            if slot_code[old] >= 0:
                s = np.int64(slot_hash[old] & np.uint64(mask))
                while new_code[s] >= 0:
                    s = (s + 1) & mask
                new_hash[s], new_code[s] = slot_hash[old], slot_code[old]
        slot_hash, slot_code = new_hash, new_code
        name_start = np.concatenate((name_start, np.empty(capacity - name_start.shape[0], dtype=np.int64)))
        name_len = np.concatenate((name_len, np.empty(capacity - name_len.shape[0], dtype=np.int64)))
    return out_offsets, codes, name_start[:n_names].copy(), name_len[:n_names].copy()


def journeys_from_path_strings(paths: Sequence[str] | pa.Array | pa.ChunkedArray, conversions: np.ndarray,
                               value: np.ndarray, nulls: np.ndarray, *, separator: str = SEPARATOR) -> Journeys:
    """Encode path strings to integer codes in one compiled pass over Arrow's UTF-8 buffer (no Python strings per
    channel). An empty string is a journey without touches."""
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
    """Read the path format with Arrow's CSV reader straight into the compiled splitter (no Python string per row
    or channel). Anything the fast read cannot take as it is (a malformed row, a blank-only line, a number Arrow
    reads differently) is read again line by line by `parse_paths`, whose error names the line; so both routes
    accept the same files and give the same answers and messages."""
    fast = _read_with_arrow(data)
    if fast is not None:
        return fast
    return parse_paths(data.decode("utf-8-sig", errors="replace").splitlines(), source=source)


def _read_with_arrow(data: bytes) -> Journeys | None:
    """The fast read, or None when the slow one must decide (it either accepts the file or names the bad line)."""
    import pyarrow.csv as pacsv

    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    # The header is the first line that is not blank.
    while True:
        end = data.find(b"\n", start)
        line = data[start: len(data) if end < 0 else end]
        if line.strip():
            break
        if end < 0:
            return None
        start = end + 1
    try:
        header = tuple(c.strip().lower() for c in line.decode("utf-8").rstrip("\r").split(";"))
    except UnicodeDecodeError:
        return None
    if header != HEADER or end < 0:
        return None
    body = pa.py_buffer(data)[end + 1:]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=list(HEADER), block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=";", quote_char=False, double_quote=False,
                                              escape_char=False, newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={"path": pa.string(), "total_conversions": pa.float64(),
                              "total_conversion_value": pa.float64(), "total_null": pa.float64()},
                null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if table.num_rows == 0:
        return None
    numbers = []
    for name in HEADER[1:]:
        column = table.column(name)
        if column.null_count:
            return None
        x = column.to_numpy()
        if not np.isfinite(x).all() or (x < 0).any():
            return None
        numbers.append(x)
    conv, val, nul = numbers
    if ((conv + nul) == 0).any():
        return None
    # Channels are split at '>' and trimmed, as the line reader does; then no channel may be empty.
    journeys = journeys_from_path_strings(table.column("path"), conv, val, nul, separator=">")
    # (Python's strip() also trims Unicode spaces, which the compiled splitter leaves: the line reader decides.)
    if (np.diff(journeys.offsets) == 0).any() or any(not name or name != name.strip() for name in journeys.names):
        return None
    return journeys


def read_paths_file(path: Path) -> Journeys:
    """Read a paths file from disk (Arrow's CSV reader into the compiled splitter)."""
    if not path.is_file():
        raise PathsFileInvalid(f"paths file {str(path)!r} does not exist", field="paths")
    return read_paths(path.read_bytes(), source=path.name)
