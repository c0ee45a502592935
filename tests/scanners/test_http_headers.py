import datetime as dt
import email.utils

import pytest

from scanners.http_headers import retry_after_seconds


@pytest.mark.parametrize(
    ("value", "expected"), [("7", 7.0), (" 0.5 ", 0.5), ("-3", 0.0), ("", None), (None, None), ("soon", None)]
)
def test_delta_seconds(value, expected):
    assert retry_after_seconds(value) == expected


def test_http_date():
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    assert 100 < retry_after_seconds(email.utils.format_datetime(later, usegmt=True)) <= 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: retry now
