"""Use case: a user reads the profile of an imported dataset to know its shape."""

import itertools

import pytest
from shared_kernel.contracts import HistogramBin, ValueCount

SMALL = """\
id,price,qty,day,seen_at,city,active
1,2.5,10,2024-01-01,2024-01-01 08:00:00,Paris,true
2,3.5,,2024-01-03,2024-01-02 09:30:00,Lyon,false
3,,30,2024-01-02,2024-01-03 10:00:00,Paris,true
4,6.0,40,2024-01-05,2024-01-04 11:15:00,,true
"""


@pytest.fixture
def columns(write_file, import_source):
    """The column profiles of ``SMALL``, by name."""
    event = import_source(write_file("small.csv", SMALL))
    assert (event.profile.rows, event.profile.rejected_rows) == (4, 0)
    return {column.name: column for column in event.profile.columns}


def test_each_column_gets_the_type_its_values_have(columns):
    types = {name: column.type for name, column in columns.items()}

    assert types == {
        "id": "integer",
        "price": "float",
        "qty": "integer",
        "day": "date",
        "seen_at": "timestamp",
        "city": "text",
        "active": "boolean",
    }


def test_number_columns_report_nulls_range_and_mean(columns):
    price, qty = columns["price"], columns["qty"]

    assert (price.nulls, price.distinct, price.min, price.max) == (1, 3, 2.5, 6.0)
    assert price.mean == pytest.approx(4.0)
    assert (qty.nulls, qty.distinct, qty.min, qty.max) == (1, 3, 10.0, 40.0)
    assert qty.mean == pytest.approx(80 / 3)
    assert price.top_values == ()


def test_number_columns_get_ten_equal_bins_from_min_to_max(columns):
    bins = columns["price"].histogram

    assert len(bins) == 10
    assert [b.count for b in bins] == [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    assert bins[0].low == 2.5 and bins[-1].high == 6.0
    assert all(b.high - b.low == pytest.approx(0.35) for b in bins)
    assert all(a.high == b.low for a, b in itertools.pairwise(bins))


def test_date_and_timestamp_ranges_are_iso_strings(columns):
    day, seen_at = columns["day"], columns["seen_at"]

    assert (day.min, day.max, day.mean) == ("2024-01-01", "2024-01-05", None)
    assert (seen_at.min, seen_at.max) == ("2024-01-01T08:00:00", "2024-01-04T11:15:00")
    assert day.histogram == ()


def test_text_columns_list_their_most_frequent_values(columns):
    city = columns["city"]

    assert (city.nulls, city.distinct, city.min, city.max) == (1, 2, None, None)
    assert city.top_values == (
        ValueCount(value="Paris", count=2),
        ValueCount(value="Lyon", count=1),
    )
    assert city.histogram == ()


def test_boolean_columns_count_values_without_range(columns):
    active = columns["active"]

    assert (active.nulls, active.distinct, active.min, active.max) == (0, 2, None, None)
    assert (active.top_values, active.histogram) == ((), ())


def test_top_values_stop_at_five_most_frequent(write_file, import_source):
    letters = [letter for n, letter in enumerate("abcdefg") for _ in range(8 - n)]
    lines = [f"{i},{letter}" for i, letter in enumerate(letters)]
    path = write_file("letters.csv", "n,letter\n" + "\n".join(lines) + "\n")

    event = import_source(path)

    top = event.profile.columns[1].top_values
    assert [(v.value, v.count) for v in top] == [
        ("a", 8),
        ("b", 7),
        ("c", 6),
        ("d", 5),
        ("e", 4),
    ]


def test_constant_number_column_gets_one_bin(write_file, import_source):
    path = write_file("constant.csv", "id,level\n1,7\n2,7\n3,7\n")

    event = import_source(path)

    assert event.profile.columns[1].histogram == (HistogramBin(low=7, high=7, count=3),)


@pytest.mark.parametrize("header", ["name,value", "bin,n", "value,bin"])
def test_columns_named_like_sql_aliases_are_profiled(tmp_path, header):
    from pathlib import Path

    from context_data.ports import LocalCsv
    from context_data.store import DuckDbStore

    path = Path(tmp_path) / "aliases.csv"
    first, second = header.split(",")
    path.write_text(f"{header}\na,1\nb,2\na,3\n")

    profile = DuckDbStore(tmp_path / "store").load(
        "ds-aliases", LocalCsv(path=path, source=str(path), encoding="utf-8",
                               size_bytes=path.stat().st_size)
    )

    assert profile.rows == 3
    assert [column.name for column in profile.columns] == [first, second]
