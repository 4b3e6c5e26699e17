"""Input specs, relative ids, and license lookup for code trees."""

import pytest

from pipeline.readers import is_license_file, nearest_license, parse_input, relative


def test_named_glob(tmp_path):
    spec = parse_input(f"web={tmp_path}/shards/*.jsonl.zst", "books")
    assert (spec.source, spec.glob, spec.root) == ("web", f"{tmp_path}/shards/*.jsonl.zst", f"{tmp_path}/shards")


def test_directory_becomes_recursive_glob(tmp_path):
    spec = parse_input(str(tmp_path), "code")
    assert spec.source == "code" and spec.glob == f"{tmp_path}/**" and spec.root == str(tmp_path)


def test_single_file_and_cloud_paths(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text("")
    assert parse_input(str(f), "web").root == str(tmp_path)
    spec = parse_input("news=gs://bucket/raw/", "web")
    assert (spec.source, spec.glob, spec.root) == ("news", "gs://bucket/raw/**", "gs://bucket/raw")


def test_missing_local_path_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="input not found: .*nope"):
        parse_input(str(tmp_path / "nope"), "web")


def test_relative_paths():
    assert relative("/data/code/proj/a.py", "/data/code") == "proj/a.py"
    assert relative("gs://b/x/y.jsonl", "gs://b/x") == "y.jsonl"


def test_license_files_and_nearest_license():
    assert is_license_file("p/LICENSE") and is_license_file("p/COPYING.LESSER") and is_license_file("p/LICENSE.md")
    assert not is_license_file("p/license_check.py")
    licenses = {"proj": "MIT", "proj/vendor/gnu": "GPL-3.0", "": "Apache-2.0"}
    assert nearest_license("proj/src/a.py", licenses) == "MIT"
    assert nearest_license("proj/vendor/gnu/lib/b.c", licenses) == "GPL-3.0"
    assert nearest_license("other/c.go", licenses) == "Apache-2.0"
    assert nearest_license("other/c.go", {}) == "unknown"
