"""The path format read by Arrow's CSV reader into the compiled splitter: the same journeys and the same
line-numbered errors as the line-by-line reader, from a file, the CLI and the API."""

from __future__ import annotations

import json
import random

import pytest

from smarketing.analytics.kernels.paths import PathsFileInvalid, _read_with_arrow, parse_paths, read_paths
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
def test_arrow_reader_gives_the_line_readers_journeys(newline):
    # Given a generated paths file (mixed separators' spacing, accents, blank lines, CRLF or LF, a BOM)
    lines = _generated(3000, seed=len(newline))
    data = ("\ufeff" + newline.join(lines) + newline).encode("utf-8")
    # When Arrow reads it, then it took the fast route and found exactly what the line reader finds
    fast = _read_with_arrow(data)
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
def test_arrow_reader_errors_name_the_line(text, message):
    with pytest.raises(PathsFileInvalid, match=message):
        read_paths(text.encode("utf-8"), source="paths.csv")


def test_what_python_reads_leniently_still_reads_the_same():
    # Numbers with spaces around them and Unicode spaces around a channel: the line reader's answer stands
    text = f"{HEADER}\n a\u00a0> b ; 2 ;10; 1\nb;1;0;0\n"
    _same(read_paths(text.encode()), parse_paths(text.splitlines()))
    assert read_paths(text.encode()).names == ("a", "b")


@pytest.mark.django_db
def test_cli_and_api_read_the_paths_through_arrow(api, tmp_path, capsys):
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
