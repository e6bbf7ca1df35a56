from pathlib import Path

import pytest
from import_helpers import Importer


@pytest.fixture
def importer(database_url: str, tmp_path: Path) -> Importer:
    return Importer(database_url, tmp_path)
