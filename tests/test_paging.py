"""One way to read a page (``traceability.paging``): the API's lists and the portal's alike."""

from __future__ import annotations

import pytest

from traceability.errors import ValidationFailed
from traceability.paging import MAX_PAGE, Paging, paging_of


@pytest.mark.parametrize(
    ("args", "paging"),
    [
        ({}, Paging(1, 50)),
        ({"page": "", "per_page": ""}, Paging(1, 50)),
        ({"page": "3", "per_page": "20"}, Paging(3, 20)),
        ({"page": "007"}, Paging(7, 50)),
        ({"page": str(MAX_PAGE), "per_page": "500"}, Paging(MAX_PAGE, 500)),
    ],
)
def test_a_page_is_read_from_the_query(args: dict[str, str], paging: Paging) -> None:
    assert paging_of(args, per_page=50, max_per_page=500) == paging


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"page": "²"}, "page"),
        ({"page": "١"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": str(MAX_PAGE + 1)}, "page"),
        ({"page": "1" + "0" * 4999}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "501"}, "per_page"),
        ({"per_page": "²"}, "per_page"),
    ],
)
def test_a_page_that_is_no_whole_number_in_range_is_refused_naming_it(
    args: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        paging_of(args, per_page=50, max_per_page=500)
    assert (refused.value.status, refused.value.field) == (422, field)


def test_per_page_is_fixed_where_no_maximum_is_given() -> None:
    assert paging_of({"per_page": "5", "page": "2"}, per_page=50) == Paging(2, 50)


def test_a_page_selects_its_window_and_counts_the_pages() -> None:
    items = list(range(7))

    assert Paging(1, 3).window(items) == [0, 1, 2]
    assert Paging(3, 3).window(items) == [6]
    assert Paging(4, 3).window(items) == []
    assert [Paging(1, 3).pages(n) for n in (0, 1, 3, 4, 7)] == [1, 1, 1, 2, 3]
