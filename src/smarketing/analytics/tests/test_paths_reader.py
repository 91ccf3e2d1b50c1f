"""The path format read by one compiled pass over the file's bytes: the same journeys and the same line-numbered
errors as the line-by-line reader, from a file, the CLI and the API."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smarketing.analytics.kernels import paths_scan
from smarketing.analytics.kernels.paths import PathsFileInvalid, _read_compiled, parse_paths, read_paths
from smarketing.analytics.tests.test_attribution_shapley_paths import HEADER


def _same(a, b) -> None:
    assert a.names == b.names
    for field in ("offsets", "codes", "conversions", "value", "nulls"):
        assert getattr(a, field).tolist() == getattr(b, field).tolist(), field


def _generated(rows: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    channels = ["Paid Search", "email", "webinar", "Événement", "direct", "social ads"]
    lines = [HEADER]
    for _ in range(rows):
        path = rng.choice([" > ", ">", "  >  "]).join(rng.choice(channels) for _ in range(rng.randint(1, 6)))
        conv = rng.randint(0, 3)
        lines.append(f"{path};{conv};{conv * rng.randint(0, 500) / 4};{rng.randint(0 if conv else 1, 20)}")
        if rng.random() < 0.05:
            lines.append("")
    return lines


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_compiled_reader_gives_the_line_readers_journeys(newline):
    # Given a generated paths file (mixed separators' spacing, accents, blank lines, CRLF or LF, a BOM)
    lines = _generated(3000, seed=len(newline))
    data = ("\ufeff" + newline.join(lines) + newline).encode("utf-8")
    # When the compiled pass reads it, then it took the fast route and found exactly what the line reader finds
    fast = _read_compiled(data)
    assert fast is not None
    _same(fast, parse_paths(lines))
    _same(read_paths(data), fast)
    assert len(fast.names) == 6 and int(fast.conversions.sum()) > 0


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("path,total_conversions\n", "line 1: expected the header"),
    (f"{HEADER}\n", "no paths"),
    (f"{HEADER}\na > b;1;2\n", "line 2: expected 4 fields"),
    (f"{HEADER}\na;1;0;0\na >  > b;1;0;0\n", "line 3: the path has an empty channel"),
    (f"{HEADER}\n;1;0;0\n", "line 2: the path has an empty channel"),
    (f"{HEADER}\na;one;0;0\n", "line 2: total_conversions must be a number"),
    (f"{HEADER}\na;1;-5;0\n", "line 2: total_conversion_value must be a finite number"),
    (f"{HEADER}\na;1;0;nan\n", "line 2: total_null must be a finite number"),
    (f"{HEADER}\na;0;0;0\n", "line 2: total_conversions and total_null are both 0"),
    # a malformed line after blank lines and good rows is named by its line in the file, not its row
    (f"\n{HEADER}\r\na > b;1;10;2\r\n\r\nb;1;5;0\r\nb > c;1;5;0;7\r\nc;0;0;1\r\n", "line 6: expected 4 fields"),
    (f"{HEADER}\na;1;0;0\n   \nb;1;0;1;\n", "line 4: expected 4 fields"),
    (f"{HEADER}\na;1;0;0\nb;2;1e400;0\n", "line 3: total_conversion_value must be a finite number"),
])
def test_compiled_reader_errors_name_the_line(text, message):
    with pytest.raises(PathsFileInvalid, match=message):
        read_paths(text.encode("utf-8"), source="paths.csv")


def test_what_python_reads_leniently_still_reads_the_same():
    # Numbers with spaces around them and Unicode spaces around a channel: the line reader's answer stands
    text = f"{HEADER}\n a\u00a0> b ; 2 ;10; 1\nb;1;0;0\n"
    _same(read_paths(text.encode()), parse_paths(text.splitlines()))
    assert read_paths(text.encode()).names == ("a", "b")


def _line_reader(data: bytes):
    """What the line reader makes of a file: its journeys, or its error message."""
    try:
        return parse_paths(data.decode("utf-8-sig", errors="replace").splitlines(), source="p.csv")
    except PathsFileInvalid as exc:
        return exc.message


def _agree(data: bytes) -> None:
    expected = _line_reader(data)
    try:
        got = read_paths(data, source="p.csv")
    except PathsFileInvalid as exc:
        assert exc.message == expected
        return
    assert not isinstance(expected, str), expected
    _same(got, expected)
    for field in ("conversions", "value", "nulls"):  # -0.0 and 0.0 compare equal; their signs must agree too
        assert [math.copysign(1, x) for x in getattr(got, field).tolist()] == \
               [math.copysign(1, x) for x in getattr(expected, field).tolist()], field


@pytest.mark.parametrize("body", [
    # counts the compiled pass leaves to float(): exponents, underscores, signs, Unicode digits and spaces, long
    # decimals, inf and nan
    "a > b;1e2;2.5E-3;0\nb;1_000;0;+3\nc;-0;0;1\n",
    "a;\u0661;\u00a07\u00a0;0\n",
    "a;1;12345678901234567.25;0\nb;0;0.1000000000000000055511151231257827;4\n",
    "a;1;7236830840615796.5;0\n",  # 17 digits: digits / 10 would round twice and miss float()'s value by one bit
    "a;1;0.30000000000000004;0\nb;1;.5;5.\n",
    # exponents: the compiled pass reads those it can round as float() does, and leaves the rest to it
    "a;1e+05;2.5E-3;0\nb;1E5 ; 3e2;4.e1\nc;1e22;1e23;1e-22\nd;7.2e-30;123456789012345e7;1e0400\n",
    "a;1e;0;1\n", "a;1e+;0;1\n", "a;e5;0;1\n", "a;1.5e3.2;0;1\n", "a;1e 5;0;1\n", "a;1 e5;0;1\n",
    "a;1;inf;0\n", "a;nan;0;1\n", "a;1;0;-2\n", "a;1;;0\n", "a;.;0;1\n",
    # line breaks Python's splitlines() knows besides LF and CRLF: lone CR, \v, \f, \x1c-\x1e, U+0085, U+2028/9
    "a;1;0;1\rb;1;0;1\n", "a;1;0;1\r\r\nb;1;0;1\n", "a;1;0;1\x0bb;1;0;1\n", "a;1;0\x0c;1\n",
    "a\x1cb;1;0;1\n", "a;1;0;1\x1d\n", "a\x1e;1;0;1\n", "a\u0085b;1;0;1\n", "a;1;0;1\u2028\n",
    "x\u2029 > y;1;0;1\n",
    # spaces: Unicode ones around channels, ASCII ones Python strips (\x1f), whitespace-only lines
    "\u00a0a > b\u3000;1;0;1\n", "a\x1f > \tb;1;0;1\n \t\x1f\n\nc;0;0;2", "a > b;1;0;1\n   ",
    # a channel whose name holds spaces, '>' spacing, other characters, and rows the line reader rejects
    "Paid  Search>e-mail >café;1;2;3\n", "a >> b;1;0;1\n", "a > ;1;0;1\n", " ;1;0;1\n",
    "a;1;0;1;\n", "a;1;0\n", "a > b\n", "a;0;5;0\n", "a;0.0;1;0.0\n",
])
def test_compiled_reader_agrees_with_the_line_reader_on_odd_files(body):
    # Given a file with odd counts, line breaks or spaces, when it is read, then it reads as the line reader reads
    # it (the same journeys, or the same error naming the same line)
    _agree(f"{HEADER}\n{body}".encode())


def test_counts_written_with_exponents_take_the_compiled_pass():
    # Given counts as R writes large numbers (1e+05) and small values with exponents
    data = np.frombuffer(f"{HEADER}\na > b;1e+05;2.5E-3;3e0\nb;0;1.25e2;7E+1\n".encode(), np.uint8)
    # when the compiled pass reads the rows, then it leaves none of them to float() and reads float()'s values
    offsets, codes, conv, val, nul, _, _, by_python = paths_scan.scan(data, len(HEADER) + 1)
    assert len(by_python) == 0
    assert (conv.tolist(), val.tolist(), nul.tolist()) == ([1e5, 0.0], [0.0025, 125.0], [3.0, 70.0])


@pytest.mark.parametrize("data", [
    b"\xef\xbb\xbf\n \r\nPATH ; Total_Conversions;total_conversion_value;total_null\r\na;1;0;1\r\n",
    b"path;total_conversions;total_conversion_value;total_null",
    b"path;total_conversions;total_conversion_value;total_null\n\n",
    b"\x0bpath;total_conversions;total_conversion_value;total_null\na;1;0;1\n",
    b"path;total_conversions;total_conversion_value;total_null\n\xff\xfe > a;1;0;1\n",
    b"path;total_conversions;total_conversion_value;total_null\na;1;\xff;1\n",
    b"path;total_conversions;total_conversion_value;total_null\r\na > b;1;2;3",
])
def test_compiled_reader_agrees_on_headers_encodings_and_endings(data):
    _agree(data)


_TOKENS = ["a", "b", "Paid Search", "é", " ", "  ", "\t", ">", " > ", ";", "0", "1", "2.5", "10", "007", "-1", "1e3",
           "e", "E-", "+",
           ".", "\n", "\r\n", "\r", "\x1f", "\u00a0", "\x85", "_", "nan"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_TOKENS), max_size=12).map("".join), max_size=8),
       st.lists(st.tuples(st.integers(0, 10 ** 15), st.integers(0, 15), st.integers(-30, 30)), min_size=1,
                max_size=4))
def test_compiled_reader_agrees_with_the_line_reader_on_any_file(rows, numbers):
    # Given rows of tokens chosen to hit the format's edges, and decimals of up to 15 digits with and without
    # exponents
    lines = [HEADER, *rows, *(f"a > b;{m / 10 ** k!r};{m}e{e};{k + 1}" for m, k, e in numbers)]
    # when both readers read the file, then they agree on its journeys or on its error
    _agree("\n".join(lines).encode())


def test_compiled_reader_grows_its_arrays_and_channel_table(monkeypatch):
    # Given a file whose first bytes say little about the rest (long rows of one channel, then short rows of up to
    # nine), over 100 channels, and many rows whose counts float() must read
    rng = random.Random(3)
    lines = [HEADER]
    for r in range(2000):
        path = (" " * 60 + f"ch{r}" if r < 50 else
                " > ".join(f"ch{rng.randint(0, 150)}" for _ in range(rng.randint(1, 9))))
        lines.append(f"{path};{rng.randint(0, 2)};1e{rng.randint(0, 3)};{rng.randint(1, 4)}" if r % 7 == 0 else
                     f"{path};{rng.randint(0, 2)};{rng.randint(0, 900) / 8};{rng.randint(1, 4)}")
    data = "\n".join(lines).encode()
    # when the compiled pass starts from a sample of the first 64 bytes
    monkeypatch.setattr(paths_scan, "_SAMPLE_BYTES", 64)
    fast = _read_compiled(data)
    # then, its arrays grown on the way, it still reads what the line reader reads
    assert fast is not None and len(fast.names) > 100
    _same(fast, parse_paths(lines))


@pytest.mark.django_db
def test_cli_and_api_read_the_paths_alike(api, tmp_path, capsys):
    from smarketing.analytics.tests.test_attribution_api import run_cli

    # Given a paths file, when the CLI reads it and the API reads the same text as its body
    lines = _generated(400, seed=7)
    text = "\n".join(lines) + "\n"
    path = tmp_path / "paths.csv"
    path.write_text(text)
    res = api.post("/api/analytics/attribution/paths", {"model": "markov", "paths": text})
    assert res.status_code == 200, res.content
    assert run_cli(["attribution", "--paths", str(path), "--model", "markov", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    # then both give the same credit, which adds up to the file's conversions
    assert cli == res.json()
    conversions = sum(float(line.split(";")[1]) for line in lines[1:] if line)
    assert sum(c["conversions"] for c in cli["channels"]) == pytest.approx(conversions)
    # and a malformed last line comes back by its line number, from the API and from the CLI
    bad_text = text + "x > y;1;0\n"
    bad = api.post("/api/analytics/attribution/paths", {"model": "markov", "paths": bad_text})
    assert bad.status_code == 422 and f"line {len(lines) + 1}:" in bad.json()["message"]
    path.write_text(bad_text)
    assert run_cli(["attribution", "--paths", str(path), "--model", "markov"]) == 2
    assert f"paths.csv line {len(lines) + 1}: expected 4 fields" in capsys.readouterr().err


def test_cli_attributes_a_paths_file_without_setting_django_up(tmp_path):
    # Given a paths file and a fresh interpreter (no database configured for it)
    lines = _generated(200, seed=9)
    path = tmp_path / "paths.csv"
    path.write_text("\n".join(lines) + "\n")
    code = f"""
from django.apps import apps
from smarketing.cli import main
try:
    main(["attribution", "--paths", {str(path)!r}, "--model", "markov", "--json"])
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
print("django set up:", apps.ready)
"""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="smarketing.settings.test", SMARKETING_DATA_DIR=str(tmp_path / "data"),
               SMARKETING_COMMAND_SERVICE="off")
    # When the CLI attributes it, then it answers with the file's journeys and never set Django up
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out, last = done.stdout.rsplit("\n", 2)[0], done.stdout.strip().splitlines()[-1]
    assert last == "django set up: False"
    assert json.loads(out)["journeys"] == pytest.approx(float(read_paths(path.read_bytes()).total_journeys()))

