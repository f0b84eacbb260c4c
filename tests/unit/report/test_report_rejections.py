"""Profiles that cannot be reported fail at once, with the reason, and write nothing."""

import pytest
from report_helpers import make_event, numeric_column
from shared_kernel.contracts import ColumnProfile
from shared_kernel.errors import PermanentError


def test_profile_without_columns_is_a_permanent_error(build, report_dir):
    event = make_event([], rows=0, source="/data/blank.csv")

    with pytest.raises(PermanentError) as caught:
        build(event)

    assert str(caught.value) == (
        "dataset 'ds-42' ('orders') has no columns, so there is nothing to report; "
        "check that '/data/blank.csv' is a CSV file with a header row"
    )
    assert not report_dir.exists()


def test_column_with_more_nulls_than_rows_is_a_permanent_error(build, report_dir):
    event = make_event([numeric_column("price", nulls=101)], rows=100)

    with pytest.raises(PermanentError, match="column 'price' .* has 101 nulls"):
        build(event)

    assert not report_dir.exists()


@pytest.mark.parametrize(("rows", "rejected"), [(-1, 0), (10, -3)])
def test_negative_row_counts_are_a_permanent_error(build, rows, rejected):
    column = ColumnProfile(name="x", type="text", nulls=0, distinct=0)
    event = make_event([column], rows=rows, rejected_rows=rejected)

    with pytest.raises(PermanentError, match="counts must not be negative"):
        build(event)
