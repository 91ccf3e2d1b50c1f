"""The compiled scan of a paths file's bytes (`path;total_conversions;total_conversion_value;total_null` rows, channels
joined by '>'): rows to integer-coded journeys in one pass, for `kernels.paths.read_paths`.

The scan takes only what it reads exactly as the line reader (`kernels.paths.parse_paths`) does: plain decimals,
ASCII spaces, LF or CRLF line ends. Anything else stops it or is listed for Python to read, so the two readers
never disagree.
"""

from __future__ import annotations

import numpy as np

from smarketing.analytics.kernels.loops import jit, same_run

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)

# Byte classes for the reader's scan: which bytes end a channel or a cell, and which the line reader would split
# lines at (Python's str.splitlines: \v, \f, \x1c-\x1e and a lone \r), which the compiled scan leaves to it.
_PLAIN, _ARROW, _SEMI, _NEWLINE, _CR, _ODD = 0, 1, 2, 3, 4, 5
_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[ord(">")], _CLASS[ord(";")], _CLASS[ord("\n")], _CLASS[ord("\r")] = _ARROW, _SEMI, _NEWLINE, _CR
_CLASS[[0x0B, 0x0C, 0x1C, 0x1D, 0x1E]] = _ODD
# ASCII bytes Python's str.strip() and float() take for whitespace.
_SPACE = np.zeros(256, dtype=np.bool_)
_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
# Any 15-digit integer and any power of ten up to 10**22 are exact in a float64, so one multiplication or division
# of the two rounds the decimal as float() does (Clinger's fast path).
_MAX_DIGITS = 15
_MAX_SCALE = 22
_POW10 = np.array([float(10 ** k) for k in range(_MAX_SCALE + 1)])

# Status of a scan: done; stopped where the line reader must decide (a bad row, or a byte it reads otherwise); or
# stopped at the start of a row because an array is full.
READ_DONE, READ_FALLBACK, READ_GROW_ROWS, READ_GROW_CODES, READ_GROW_NAMES, READ_GROW_PYTHON = range(6)


@jit
def _scan_rows(data: np.ndarray, i: int, row: int, t: int, n_py: int, n_names: int, offsets: np.ndarray,
               codes: np.ndarray, conv: np.ndarray, val: np.ndarray, nul: np.ndarray, by_python: np.ndarray,
               slot_hash: np.ndarray, slot_code: np.ndarray, name_start: np.ndarray, name_len: np.ndarray
               ) -> tuple[int, int, int, int, int, int]:
    """Read the rows of a paths file from data[i:] in one pass: split each path at '>' into channels trimmed of
    whitespace, number the channels in order of first appearance and parse the three counts into the arrays given.

    Returns (status, i, row, t, n_py, n_names): where the scan stands (byte, rows, codes, rows left to Python's
    float(), channels) and READ_DONE, READ_FALLBACK (a row the line reader would reject or might read otherwise),
    or which array is full (the scan then stands at the start of the row it could not finish; call again with the
    array grown). Rows whose counts are not plain decimals are listed in `by_python` as (row, line start, line end).
    Channels are found through an open-addressing table keyed by their FNV-1a hash and compared byte by byte on a
    hash match, so two channels never share a code.

    One function that never reassigns an array and calls nothing in its loops, on purpose: Numba updates an
    array's reference count atomically on each such call or assignment, which costs more than the work here."""
    n = data.shape[0]
    capacity = slot_code.shape[0]
    mask = capacity - 1
    while i < n:
        line = i
        row_t = t
        blank = False
        if row == conv.shape[0]:
            return READ_GROW_ROWS, line, row, row_t, n_py, n_names
        # The path: channels up to the first ';'.
        while True:
            q = i
            while q < n and _CLASS[data[q]] == _PLAIN:
                q += 1
            k = _CLASS[data[q]] if q < n else _NEWLINE
            nxt = q + 1
            if k == _CR:
                if q + 1 < n and data[q + 1] == 10:
                    k, nxt = _NEWLINE, q + 2
                else:
                    k = _ODD
            if k == _ODD:
                return READ_FALLBACK, line, row, row_t, n_py, n_names
            lo, hi = i, q
            while lo < hi and _SPACE[data[lo]]:
                lo += 1
            while hi > lo and _SPACE[data[hi - 1]]:
                hi -= 1
            i = nxt
            if k == _NEWLINE and t == row_t and lo == hi:
                blank = True  # a line of whitespace, or nothing after the last line break: no row
                break
            if lo == hi or k == _NEWLINE:  # an empty channel, or a line without the three counts
                return READ_FALLBACK, line, row, row_t, n_py, n_names
            code, s, h = find_name(data, lo, hi, slot_hash, slot_code, name_start, name_len, mask)
            if code < 0:
                code = n_names
                if 2 * (n_names + 1) > capacity:
                    return READ_GROW_NAMES, line, row, row_t, n_py, n_names
                name_start[code], name_len[code] = lo, hi - lo
                slot_hash[s], slot_code[s] = h, code
                n_names += 1
            if t == codes.shape[0]:
                return READ_GROW_CODES, line, row, row_t, n_py, n_names
            codes[t] = code
            t += 1
            if k == _SEMI:
                break
        if blank:
            continue
        # The three counts, read as plain decimals (digits, one optional point, an optional exponent, whitespace
        # around); anything else (signs, underscores, inf/nan, Unicode digits) is left to Python's float().
        plain = True
        for cell in range(3):
            m = 0
            digits = 0
            frac = -1
            # Where the cell stands: 0 before the number, 1 in its digits, 2 after 'e', 3 after the exponent's sign,
            # 5 in the exponent's digits, 4 after it all (whitespace).
            phase = 0
            e = 0
            e_sign = 1
            e_digits = 0
            q = i
            while q < n:
                b = data[q]
                if _CLASS[b] >= _SEMI:
                    break
                if 48 <= b <= 57 and phase < 2:
                    m = m * 10 + (b - 48)
                    digits += 1
                    phase = 1
                    if frac >= 0:
                        frac += 1
                elif b == 46 and frac < 0 and phase < 2:
                    frac = 0
                    phase = 1
                elif (b == 101 or b == 69) and phase == 1:
                    phase = 2
                elif (b == 43 or b == 45) and phase == 2:
                    e_sign = -1 if b == 45 else 1
                    phase = 3
                elif 48 <= b <= 57 and (phase == 2 or phase == 3 or phase == 5):
                    e = e * 10 + (b - 48)
                    e_digits += 1
                    phase = 5
                elif _SPACE[b] and phase != 2 and phase != 3:
                    if phase != 0:
                        phase = 4
                else:
                    plain = False
                q += 1
            k = _CLASS[data[q]] if q < n else _NEWLINE
            nxt = q + 1
            if k == _CR:
                if q + 1 < n and data[q + 1] == 10:
                    k, nxt = _NEWLINE, q + 2
                else:
                    k = _ODD
            if k == _ODD or (k == _NEWLINE) != (cell == 2):  # a line break inside, or too few or too many cells
                return READ_FALLBACK, line, row, row_t, n_py, n_names
            scale = e_sign * e - max(frac, 0)
            if digits == 0 or digits > _MAX_DIGITS or phase == 2 or phase == 3 or e_digits > 3 \
                    or not -_MAX_SCALE <= scale <= _MAX_SCALE:
                plain = False
                scale = 0
            # Both operands are exact and IEEE arithmetic rounds once: the correctly rounded value, as float() gives.
            x = m * _POW10[scale] if scale >= 0 else m / _POW10[-scale]
            if cell == 0:
                conv[row] = x
            elif cell == 1:
                val[row] = x
            else:
                nul[row] = x
            i = nxt
        if not plain:
            if 3 * n_py + 3 > by_python.shape[0]:
                return READ_GROW_PYTHON, line, row, row_t, n_py, n_names
            by_python[3 * n_py], by_python[3 * n_py + 1], by_python[3 * n_py + 2] = row, line, i
            n_py += 1
        elif conv[row] + nul[row] == 0:
            return READ_FALLBACK, line, row, row_t, n_py, n_names
        row += 1
        offsets[row] = t
    return READ_DONE, i, row, t, n_py, n_names


@jit
def find_name(data: np.ndarray, lo: int, hi: int, slot_hash: np.ndarray, slot_code: np.ndarray,
              name_start: np.ndarray, name_len: np.ndarray, mask: int) -> tuple[int, np.int64, np.uint64]:
    """Look the channel name data[lo:hi] up in the open-addressing table: (its code, or -1 when new; the slot it is
    in or would go in; its FNV-1a hash)."""
    h = FNV_OFFSET
    for u in range(lo, hi):
        h = (h ^ np.uint64(data[u])) * FNV_PRIME
    s = np.int64(h & np.uint64(mask))
    while slot_code[s] >= 0:
        if slot_hash[s] == h:
            c = slot_code[s]
            if name_len[c] == hi - lo and same_run(data, name_start[c], lo, hi - lo):
                return c, s, h
        s = (s + 1) & mask
    return -1, s, h


@jit
def rehash(slot_hash: np.ndarray, slot_code: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """The channel table at a new capacity, every name in it again."""
    mask = capacity - 1
    new_hash = np.zeros(capacity, dtype=np.uint64)
    new_code = np.full(capacity, -1, dtype=np.int64)
    for old in range(slot_code.shape[0]):
        if slot_code[old] >= 0:
            z = np.int64(slot_hash[old] & np.uint64(mask))
            while new_code[z] >= 0:
                z = (z + 1) & mask
            new_hash[z], new_code[z] = slot_hash[old], slot_code[old]
    return new_hash, new_code


_SAMPLE_BYTES = 1 << 20  # read first to size the scan's arrays


def scan(data: np.ndarray, pos: int) -> tuple[np.ndarray, ...] | None:
    """The rows of a paths file from data[pos:] (just after its header): (journey offsets, codes, conversions,
    value, nulls, first byte and length of each channel's name, and (row, line start, line end) of the rows whose
    counts Python's float() must read, flattened), or None when the line reader must decide. `_scan_rows` runs
    until done, and again whenever an array it fills has grown; the arrays start at the sizes the first megabyte
    suggests, so they seldom grow."""
    sample = data[pos: pos + _SAMPLE_BYTES]
    lines = int(np.count_nonzero(sample == 10)) or 1
    per_row = (int(np.count_nonzero(sample == 62)) + lines) / lines
    rows = int((data.shape[0] - pos) / max(len(sample), 1) * lines * 1.05) + 16
    offsets = np.zeros(rows + 1, dtype=np.int64)
    conv, val, nul = (np.empty(rows, dtype=np.float64) for _ in range(3))
    codes = np.empty(int(rows * per_row * 1.05) + 16, dtype=np.int32)
    by_python = np.empty(48, dtype=np.int64)
    slot_hash, slot_code = np.zeros(64, dtype=np.uint64), np.full(64, -1, dtype=np.int64)
    name_start, name_len = np.empty(32, dtype=np.int64), np.empty(32, dtype=np.int64)
    i, row, t, n_py, n_names = pos, 0, 0, 0, 0
    while True:
        status, i, row, t, n_py, n_names = _scan_rows(data, i, row, t, n_py, n_names, offsets, codes, conv, val,
                                                      nul, by_python, slot_hash, slot_code, name_start, name_len)
        if status == READ_DONE:
            break
        if status == READ_FALLBACK:
            return None
        if status == READ_GROW_ROWS:
            offsets = _grown(offsets, 2 * len(conv) + 1)
            conv, val, nul = (_grown(x, 2 * len(x)) for x in (conv, val, nul))
        elif status == READ_GROW_CODES:
            codes = _grown(codes, 2 * len(codes))
        elif status == READ_GROW_PYTHON:
            by_python = _grown(by_python, 2 * len(by_python))
        else:
            slot_hash, slot_code = rehash(slot_hash, slot_code, 2 * len(slot_code))
            name_start, name_len = _grown(name_start, len(slot_code) // 2), _grown(name_len, len(slot_code) // 2)
    if row == 0:
        return None
    return (_fitted(offsets, row + 1), _fitted(codes, t), _fitted(conv, row), _fitted(val, row), _fitted(nul, row),
            name_start[:n_names], name_len[:n_names], by_python[: 3 * n_py])


def _grown(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, dtype=a.dtype)
    out[: len(a)] = a
    return out


def _fitted(a: np.ndarray, size: int) -> np.ndarray:
    """a[:size], copied when that leaves much of `a` unused (a view would keep it all alive)."""
    return a[:size] if 4 * size >= 3 * len(a) else a[:size].copy()
