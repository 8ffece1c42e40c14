"""Fixtures of the crawl tests: the saved site, served."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from saved_site import Site, serving


@pytest.fixture
def site() -> Iterator[Site]:
    with serving() as served:
        yield served
