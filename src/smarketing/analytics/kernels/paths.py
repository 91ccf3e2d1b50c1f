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
import pyarrow.compute as pc

from smarketing.analytics.kernels.journeys import AttributionInputInvalid, Journeys

SEPARATOR = " > "
HEADER = ("path", "total_conversions", "total_conversion_value", "total_null")


class PathsFileInvalid(AttributionInputInvalid):
    code = "paths_file_invalid"


def journeys_from_path_strings(paths: Sequence[str] | pa.Array, conversions: np.ndarray, value: np.ndarray,
                               nulls: np.ndarray, *, separator: str = SEPARATOR) -> Journeys:
    """Encode path strings to integer codes with Arrow's vectorised split and dictionary encoding."""
    arr = paths if isinstance(paths, pa.Array) else pa.array(paths, type=pa.string())
    parts = pc.split_pattern(arr, pattern=separator)
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    encoded = pc.dictionary_encode(flat).combine_chunks() if isinstance(flat, pa.ChunkedArray) else \
        pc.dictionary_encode(flat)
    names = tuple(encoded.dictionary.to_pylist())
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.zeros(lengths.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Journeys(offsets=offsets, codes=codes, names=names, conversions=np.asarray(conversions, np.float64),
                    value=np.asarray(value, np.float64), nulls=np.asarray(nulls, np.float64))


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


def read_paths_file(path: Path) -> Journeys:
    """Read a paths file from disk."""
    if not path.is_file():
        raise PathsFileInvalid(f"paths file {str(path)!r} does not exist", field="paths")
    with path.open(encoding="utf-8-sig") as fh:
        return parse_paths(fh, source=path.name)
