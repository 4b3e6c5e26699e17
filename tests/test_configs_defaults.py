"""configs/curate/default.yaml and configs/dedup/default.yaml are the documented
list of every curate / dedup key with its default. These tests fail when a
field is added, removed or its default changes without the file following."""

from pathlib import Path

import pytest
import yaml

from palmkit.config import load_config, to_dict
from pipeline.curate import CurateConfig
from pipeline.dedup_job import DedupJobConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
CASES = [("configs/curate/default.yaml", CurateConfig), ("configs/dedup/default.yaml", DedupJobConfig)]


@pytest.mark.parametrize("path, cls", CASES)
def test_file_lists_every_key_with_its_default(path, cls):
    with open(REPO_ROOT / path, encoding="utf-8") as f:
        assert yaml.safe_load(f) == to_dict(cls())


@pytest.mark.parametrize("path, cls", CASES)
def test_file_loads_as_the_defaults(path, cls):
    assert load_config(cls, REPO_ROOT / path, []) == cls()
