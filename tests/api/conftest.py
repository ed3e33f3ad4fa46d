from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import Server, running_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(
        f"sqlite:///{tmp_path / 'api.db'}", tmp_path / "serve.log", "--allow-network", "127.0.0.0/8"
    ) as s:
        yield s
