"""read_table on files written byte for byte as CRM exports and spreadsheets write them, quirks included."""

from __future__ import annotations

import csv
import gc
from pathlib import Path

import pytest

from smarketing.core.errors import ValidationFailed
from smarketing.ingest.readers import CSV_HARD_LIMIT, MAX_CELL_CHARS, read_table

HUBSPOT_HEADER = ('"Record ID","First Name","Billing Contact","Billing Contact",'
                  '"Date entered ""Lead (Lifecycle Stage Pipeline)""","Opted out of email: One to One"')


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def failure(path: Path) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        read_table(path)
    return caught.value


# --- encodings and delimiters -------------------------------------------------------------------------------------

def test_hubspot_utf8_bom_every_cell_quoted_with_quoted_and_repeated_headers(tmp_path):
    path = write(tmp_path, "hubspot-contacts.csv", (
        "\ufeff" + HUBSPOT_HEADER + "\r\n"
        '"101","Zoë","","301","2026-02-07 11:17","false"\r\n'
        '"102","Ann","302","","",""\r\n').encode("utf-8"))

    table = read_table(path)

    assert table.encoding == "utf-8-sig"
    assert table.delimiter == ","
    assert table.header == ["Record ID", "First Name", "Billing Contact", "Billing Contact (2)",
                            'Date entered "Lead (Lifecycle Stage Pipeline)"', "Opted out of email: One to One"]
    assert table.rows == [(2, ["101", "Zoë", "", "301", "2026-02-07 11:17", "false"]),
                          (3, ["102", "Ann", "302", "", "", ""])]
    assert table.footer == []
    assert table.column('Date entered "Lead (Lifecycle Stage Pipeline)"') == 4
    assert table.column("Billing Contact (2)") == 3


def test_utf8_without_bom(tmp_path):
    path = write(tmp_path, "plain.csv", "Name,City\nJosé,Zürich\n".encode())

    table = read_table(path)

    assert table.encoding == "utf-8"
    assert table.rows == [(2, ["José", "Zürich"])]


@pytest.mark.parametrize(("codec", "bom", "expected"), [
    ("utf-16-le", b"\xff\xfe", "utf-16-le"),
    ("utf-16-be", b"\xfe\xff", "utf-16-be"),
    ("utf-16-le", b"", "utf-16-le"),
    ("utf-16-be", b"", "utf-16-be"),
])
def test_utf16_tab_separated_as_hubspot_writes_it_for_excel(tmp_path, codec, bom, expected):
    text = HUBSPOT_HEADER.replace('","', '"\t"') + "\r\n" + '"101"\t"Łukasz"\t""\t"301"\t"2026-02-07 11:17"\t""\r\n'
    path = write(tmp_path, "export.csv", bom + text.encode(codec))

    table = read_table(path)

    assert table.encoding == expected
    assert table.delimiter == "\t"
    assert table.header[3] == "Billing Contact (2)"
    assert table.rows == [(2, ["101", "Łukasz", "", "301", "2026-02-07 11:17", ""])]


def test_semicolon_separated_from_a_european_spreadsheet(tmp_path):
    path = write(tmp_path, "excel.csv", b"Name;Amount;Note\r\nAnn;1234.5;a, b and c\r\nBob;2;\r\n")

    table = read_table(path)

    assert table.delimiter == ";"
    assert table.rows == [(2, ["Ann", "1234.5", "a, b and c"]), (3, ["Bob", "2", ""])]


def test_tab_separated_utf8(tmp_path):
    path = write(tmp_path, "tabs.tsv", b"Deal - ID\tDeal - Title\n7\tBig, deal\n")

    table = read_table(path)

    assert table.delimiter == "\t"
    assert table.rows == [(2, ["7", "Big, deal"])]


def test_excel_sep_line_names_the_delimiter_and_is_not_the_header(tmp_path):
    path = write(tmp_path, "excel-sep.csv", b"sep=;\r\nName;Note\r\nAnn;a,b,c,d\r\n")

    table = read_table(path)

    assert table.delimiter == ";"
    assert table.header == ["Name", "Note"]
    assert table.rows == [(3, ["Ann", "a,b,c,d"])]


def test_a_single_column_file_reads_as_comma_separated(tmp_path):
    path = write(tmp_path, "emails.csv", b"Email\nann@x.com\nbob@y.org\n")

    table = read_table(path)

    assert table.delimiter == ","
    assert table.header == ["Email"]
    assert [cells for _, cells in table.rows] == [["ann@x.com"], ["bob@y.org"]]


# --- line numbers, ragged rows, blank lines -----------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_numbers_count_line_breaks_inside_quoted_cells(tmp_path, newline):
    text = newline.join([
        '"ID","Note","Owner"',
        '"1","first line',
        'second line',
        'third line","ann"',
        '"2","plain","bob"',
        '',
        '"3","after a blank line","cy"',
    ]) + newline
    path = write(tmp_path, "notes.csv", text.encode())

    table = read_table(path)

    assert [(line, cells[0]) for line, cells in table.rows] == [(2, "1"), (5, "2"), (7, "3")]
    assert table.rows[0][1][1] == newline.join(["first line", "second line", "third line"])


def test_short_rows_are_padded_and_empty_rows_skipped(tmp_path):
    path = write(tmp_path, "ragged.csv", b"a,b,c,d\n1,2\n,,,\n\n3,4,5,6\n7\n")

    table = read_table(path)

    assert table.rows == [(2, ["1", "2", "", ""]), (5, ["3", "4", "5", "6"]), (6, ["7", "", "", ""])]


def test_trailing_empty_cells_beyond_the_header_are_dropped(tmp_path):
    path = write(tmp_path, "trailing.csv", b"a,b\n1,2,,\n3,4,\n")

    assert read_table(path).rows == [(2, ["1", "2"]), (3, ["3", "4"])]


def test_rows_with_more_cells_than_the_header_are_refused_by_line(tmp_path):
    path = write(tmp_path, "shifted.csv", b"a,b\n1,2\n3,4,5\n6,7\n8,9,,10\n")

    error = failure(path)

    assert "shifted.csv" in error.message
    assert "line 3, column 'cell 3': 3 cells but the header has 2 columns" in error.message
    assert "line 5, column 'cell 4': 4 cells" in error.message
    assert error.record == "shifted.csv:line 3"


def test_leading_blank_lines_before_the_header_are_skipped(tmp_path):
    path = write(tmp_path, "blank-top.csv", b"\n\nName,Email\nAnn,ann@x.com\n")

    table = read_table(path)

    assert table.header == ["Name", "Email"]
    assert table.rows == [(4, ["Ann", "ann@x.com"])]


def test_header_names_are_trimmed_and_repeats_numbered_without_collisions(tmp_path):
    path = write(tmp_path, "repeats.csv", b' Email ,Email,Email (2),Email,\n1,2,3,4,5\n')

    table = read_table(path)

    assert table.header == ["Email", "Email (3)", "Email (2)", "Email (4)", ""]
    assert len(set(table.header)) == 5


def test_a_header_only_file_has_no_rows(tmp_path):
    path = write(tmp_path, "empty-report.csv", b'"Lead ID","Email"\r\n')

    table = read_table(path)

    assert table.header == ["Lead ID", "Email"]
    assert table.rows == []


def test_column_finds_salesforce_prefixed_names_after_exact_ones(tmp_path):
    path = write(tmp_path, "members.csv",
                 b'"Campaign: Campaign ID","Contact: Contact ID","Lead: Lead ID","Lead ID","Member Status"\n'
                 b'"701","003","00Q1","00Q2","Sent"\n')

    table = read_table(path)

    assert table.column("Campaign ID") == 0
    assert table.column("Contact ID") == 1
    assert table.column("Contact: Contact ID") == 1
    assert table.column("Lead ID") == 3  # the exact name wins over "Lead: Lead ID"
    assert table.column("Status") is None
    assert table.column("Member Status") == 4


# --- Salesforce footers -------------------------------------------------------------------------------------------

SF_DATA = '"Lead ID","Email","Lead Status"\n"00Q1","ann@x.com","Open"\n"00Q2","bob@y.org","Working"\n'


@pytest.mark.parametrize(("footer", "expected"), [
    ('\n"Grand Totals (2 records)"\n"Confidential Information - Do Not Distribute"\n'
     '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n',
     ["Grand Totals (2 records)", "Confidential Information - Do Not Distribute",
      "Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."]),
    # the copyright broken over two lines inside its quotes
    ('\n"Grand Totals (2 records)"\n"Confidential Information - Do Not Distribute"\n'
     '"Copyright (c) 2000-2026 salesforce.com\n, inc. All rights reserved."\n',
     ["Grand Totals (2 records)", "Confidential Information - Do Not Distribute",
      "Copyright (c) 2000-2026 salesforce.com", ", inc. All rights reserved."]),
    # ... and without quotes
    ('\nGrand Totals (2 records)\nConfidential Information - Do Not Distribute\n'
     'Copyright (c) 2000-2026 salesforce.com\n, inc. All rights reserved.\n',
     ["Grand Totals (2 records)", "Confidential Information - Do Not Distribute",
      "Copyright (c) 2000-2026 salesforce.com", ", inc. All rights reserved."]),
    # an older export: the report name, the copyright, the confidentiality line, who generated it, the company
    ('\n\n"Lead Report"\n"Copyright (c) 2000-2019 salesforce.com, inc. All rights reserved."\n'
     '"Confidential Information - Do Not Distribute"\n"Generated By:  Ann Lee  8/12/2019 3:04 PM"\n"Acme Inc"\n',
     ["Lead Report", "Copyright (c) 2000-2019 salesforce.com, inc. All rights reserved.",
      "Confidential Information - Do Not Distribute", "Generated By:  Ann Lee  8/12/2019 3:04 PM", "Acme Inc"]),
    # no blank line, and Windows line ends
    ('"Grand Totals (2 records)"\n"Confidential Information - Do Not Distribute"\n'
     '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."'.replace("\n", "\r\n"),
     ["Grand Totals (2 records)", "Confidential Information - Do Not Distribute",
      "Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."]),
])
def test_salesforce_report_footer_is_split_off_the_rows(tmp_path, footer, expected):
    path = write(tmp_path, "report1234.csv", (SF_DATA + footer).encode())

    table = read_table(path)

    assert table.rows == [(2, ["00Q1", "ann@x.com", "Open"]), (3, ["00Q2", "bob@y.org", "Working"])]
    assert table.footer == expected


def test_footer_words_inside_the_data_stay_data(tmp_path):
    path = write(tmp_path, "report.csv", (
        b'"Lead ID","Email","Lead Status"\n'
        b'"Confidential Information - Do Not Distribute","x@y.org","Open"\n'
        b'"00Q2","bob@y.org","Working"\n'))

    table = read_table(path)

    assert len(table.rows) == 2
    assert table.footer == []


def test_one_cell_rows_without_a_salesforce_marker_are_data(tmp_path):
    path = write(tmp_path, "sparse.csv", b'"Name","Email"\n"Ann",""\n\n"Bob",""\n')

    table = read_table(path)

    assert [cells[0] for _, cells in table.rows] == ["Ann", "Bob"]
    assert table.footer == []


# --- refusals -----------------------------------------------------------------------------------------------------

def test_latin1_bytes_are_refused_naming_file_line_and_column(tmp_path):
    rows = "".join(f'"{i}","Ann {i}","Paris"\r\n' for i in range(1, 2000))
    data = ('"ID","Name","City"\r\n' + rows).encode() + b'"2000","Ren\xe9e","Paris"\r\n'
    path = write(tmp_path, "latin1.csv", data)

    error = failure(path)

    assert error.message.startswith("latin1.csv: line 2001, column 'Name' (character 12): byte(s) E9")
    assert "not UTF-8" in error.message and "Latin-1" in error.message
    assert error.record == "latin1.csv:line 2001"
    assert error.field == "Name"


def test_invalid_utf16_is_refused(tmp_path):
    path = write(tmp_path, "broken16.csv", b"\xff\xfe" + "a\tb\n1\t".encode("utf-16-le") + b"\x00\xdc\x41\x00")

    error = failure(path)

    assert "broken16.csv: line 2" in error.message
    assert "UTF-16-LE" in error.message


@pytest.mark.parametrize(("data", "where"), [
    (b"a,b\n1,2\x003\n", "line 2, column 4"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "line"),
])
def test_binary_files_are_refused_without_a_traceback(tmp_path, data, where):
    path = write(tmp_path, "upload.csv", data)

    error = failure(path)

    assert error.message.startswith("upload.csv: ")
    assert where in error.message


def test_a_cell_over_the_bound_is_refused_naming_its_column(tmp_path):
    big = "x" * (MAX_CELL_CHARS + 1)
    path = write(tmp_path, "huge.csv", f'"ID","Notes"\n"1","short"\n"2","{big}"\n"3","ok"\n'.encode())

    error = failure(path)

    assert "line 3, column 'Notes': longer than 1,048,576 characters" in error.message


def test_a_cell_at_the_bound_is_read(tmp_path):
    full = "y" * MAX_CELL_CHARS
    path = write(tmp_path, "full.csv", f'"ID","Notes"\n"1","{full}"\n'.encode())

    assert read_table(path).rows[0][1][1] == full


def test_a_missing_quote_that_swallows_the_file_is_refused_by_line(tmp_path):
    body = "".join(f"{i},row {i}\n" for i in range(CSV_HARD_LIMIT // 10 + 10))
    path = write(tmp_path, "swallowed.csv", ('ID,Note\n1,"oops\n' + body).encode())

    error = failure(path)

    assert error.message.startswith("swallowed.csv: line 2, column 'Note': a cell is longer than")


def test_csv_limit_and_collector_are_restored_after_a_read(tmp_path):
    before = csv.field_size_limit()
    path = write(tmp_path, "ok.csv", b"a\n1\n")
    bad = write(tmp_path, "bad.csv", b'a,b\n1,"x"y\n')

    read_table(path)
    failure(bad)

    assert csv.field_size_limit() == before
    assert gc.isenabled()


@pytest.mark.parametrize(("data", "words"), [
    (b'a,b\n1,"unclosed\n2,3\n',
     "line 2, column 'b': a quoted cell starts on this line and is never closed"),
    (b'"a","b","c"\n"1","2","3"\n"4","x"y","z"\n', "line 3, column 'b': text after a closing quote"),
    (b'"a","b","c"\n"1","2","3"\n"4","5","open\n"7","8","9"\n',
     "line 3, column 'c': the quoted cell opened here runs on to line 4, where text follows its closing quote"),
    (b'"a","b\n', "line 1, column 'cell 2': a quoted cell starts on this line and is never closed"),
])
def test_broken_quoting_is_refused_by_line_and_column(tmp_path, data, words):
    path = write(tmp_path, "quotes.csv", data)

    error = failure(path)

    assert error.message.startswith(f"quotes.csv: {words}")


def test_a_quote_inside_an_unquoted_cell_is_text(tmp_path):
    path = write(tmp_path, "inches.csv", b'Product,Size\nScreen,27" wide\n')

    assert read_table(path).rows == [(2, ["Screen", '27" wide'])]


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf", b"   \r\n"])
def test_an_empty_file_is_refused(tmp_path, data):
    path = write(tmp_path, "nothing.csv", data)

    assert failure(path).message == "nothing.csv is empty: a CSV export starts with a header line"


def test_a_missing_file_is_refused(tmp_path):
    error = failure(tmp_path / "absent.csv")

    assert "absent.csv is not a file" in error.message
