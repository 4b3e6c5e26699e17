"""``palmkit dedup`` end to end: planted exact and near copies in a curated tree, the
accounting identity, the outputs, byte-identical results on 1 and 2 workers, and user errors."""

import glob
import json
import os
import random

import pytest
import zstandard

from filters.document import Document
from palmkit import cli


def run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _words(rng, n):
    return [f"w{rng.randrange(10**6)}" for _ in range(n)]


def build_curated(root):
    """A curate-style tree: curated/web/en (prose) and curated/github/code, plus a bad line.

    Planted: ``ex-b`` an exact copy of ``ex-a`` (case differs, same length: the id decides);
    ``near-b`` two words off ``near-a`` (Jaccard ~0.95); ``code-b`` a one-identifier edit of
    ``code-a``; ``far-b`` 60 of 300 words off ``far-a`` (well below 0.8, both kept).
    """
    rng = random.Random(7)
    web = [Document(id=f"bg{i}", text=" ".join(_words(rng, 200)), source="web", lang="en", lang_score=0.9,
                    meta={"file": f"raw/{i}.jsonl"}) for i in range(12)]
    base = _words(rng, 300)
    web.append(Document(id="ex-a", text=" ".join(base), source="web", lang="en", lang_score=0.93))
    web.append(Document(id="ex-b", text=" ".join(base).upper(), source="web", lang="en", lang_score=0.91))
    near = _words(rng, 300)
    near_b = list(near)
    near_b[100], near_b[200] = "x1", "x2"  # shorter words: near-a stays the longest and survives
    web += [Document(id="near-a", text=" ".join(near), source="web", lang="en"),
            Document(id="near-b", text=" ".join(near_b), source="web", lang="en")]
    far = _words(rng, 300)
    far_b = [w if i % 5 else "y" for i, w in enumerate(far)]
    web += [Document(id="far-a", text=" ".join(far), source="web", lang="en"),
            Document(id="far-b", text=" ".join(far_b), source="web", lang="en")]
    code = "\n".join(f"def handler_{i}(request, payload):\n    value = payload.get('field_{i}', {i})\n    return value * {i}\n"
                     for i in range(30))
    github = [Document(id="code-a", text=code, source="github", lang="code", meta={"code_lang": "python"}),
              Document(id="code-b", text=code.replace("field_7'", "f7'"), source="github", lang="code", meta={"code_lang": "python"})]
    # Curated Documents always carry meta.file (the raw input they came from).
    web = [d if "file" in d.meta else d.with_meta(file=f"raw/{d.id}.jsonl") for d in web]
    github = [d.with_meta(file=f"src/{d.id}.py") for d in github]
    rng.shuffle(web)
    for rel, docs in [("curated/web/en", web), ("curated/github/code", github)]:
        os.makedirs(root / rel, exist_ok=True)
        lines = "".join(d.to_json() + "\n" for d in docs).encode()
        (root / rel / "part-00000-of-00001.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines))
    (root / "curated" / "web" / "en" / "bad.jsonl").write_text('{"id": "broken", "text": \n')
    return {d.id: d for d in web + github}


def read_shards(pattern):
    out = {}
    for path in sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p)):
        data = open(path, "rb").read()
        if path.endswith(".zst"):
            data = zstandard.ZstdDecompressor().stream_reader(data).read() if data else b""
        out[path] = data
    return out


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    root = tmp_path_factory.mktemp("dedup_cmd")
    docs = build_curated(root)
    out = root / "out"
    code = cli.main(["dedup", "--input", str(root / "curated"), "--output", str(out), "--workers", "1",
                     "dedup.near.max_rounds=4", "records_per_shard=8"])
    assert code == 0
    return root, out, docs


def test_stats_identity_and_planted_duplicates(job):
    _, out, docs = job
    stats = json.loads((out / "stats.json").read_text())
    assert stats["read"] == len(docs) + 1
    assert stats["errors"] == 1
    assert stats["duplicates"] == {"exact": 1, "near": 2}
    assert stats["read"] == stats["kept"] + stats["errors"] + stats["duplicates"]["exact"] + stats["duplicates"]["near"]
    assert "rejected" not in stats
    assert stats["dedup"]["bands"] * stats["dedup"]["rows"] <= stats["dedup"]["num_perm"]
    assert stats["dedup"]["cluster_sizes"] == {"exact": {"2": 1}, "near": {"2": 2}}
    assert stats["dedup"]["components"][0]["converged"]


def test_duplicates_list_removed_to_survivor(job):
    _, out, _ = job
    lines = [json.loads(x) for data in read_shards(str(out / "duplicates" / "*.jsonl")).values() for x in data.splitlines()]
    assert {d["id"]: (d["survivor"], d["kind"]) for d in lines} == {
        "ex-b": ("ex-a", "exact"), "near-b": ("near-a", "near"), "code-b": ("code-a", "near")}


def test_kept_shards_keep_the_curated_layout_and_bytes(job):
    _, out, docs = job
    shards = read_shards(str(out / "kept" / "**" / "*.jsonl.zst"))
    folders = {os.path.relpath(os.path.dirname(p), out) for p in shards}
    assert folders == {"kept/web/en", "kept/github/code"}
    kept = [line for data in shards.values() for line in data.decode().splitlines()]
    ids = {json.loads(line)["id"] for line in kept}
    assert ids == set(docs) - {"ex-b", "near-b", "code-b"}
    assert {"far-a", "far-b"} <= ids
    # A kept Document is written exactly as it was read.
    assert sorted(kept) == sorted(docs[i].to_json() for i in ids)


def test_config_yaml_is_the_effective_config(job):
    from palmkit.config import load_config
    from pipeline.dedup_job import DedupJobConfig

    _, out, _ = job
    cfg = load_config(DedupJobConfig, out / "config.yaml")
    assert cfg == load_config(DedupJobConfig, None, ["dedup.near.max_rounds=4", "records_per_shard=8"])
    assert cfg.dedup.near.max_rounds == 4 and cfg != DedupJobConfig()


def test_report_and_errors(job, capsys):
    _, out, _ = job
    report = (out / "report.html").read_text()
    assert "Duplicate clusters" in report and "bands × " in report and "holds" in report
    errors = [json.loads(x) for data in read_shards(str(out / "errors" / "*.jsonl")).values() for x in data.splitlines()]
    assert len(errors) == 1 and errors[0]["reason"].startswith("invalid_json")


def test_prints_bands_rows_and_summary(tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": f"d{i}", "text": "same words here"}) + "\n" for i in range(3)))
    code, out, _ = run(["dedup", "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "o"), "--workers", "1"], capsys)
    assert code == 0
    assert "128 permutations, threshold 0.8 -> 14 bands x 9 rows" in out
    assert json.loads(out.splitlines()[1]) == {"read": 3, "kept": 1, "errors": 0, "duplicates": {"exact": 2, "near": 0}}
    # Plain JSONL (no Document fields): the input's source, lang "und".
    assert glob.glob(str(tmp_path / "o" / "kept" / "web" / "und" / "part-00000-of-00001.jsonl.zst"))


def test_two_workers_give_the_same_bytes(job, tmp_path):
    root, out, _ = job
    out2 = tmp_path / "out2"
    code = cli.main(["dedup", "--input", str(root / "curated"), "--output", str(out2), "--workers", "2",
                     "dedup.near.max_rounds=4", "records_per_shard=8"])
    assert code == 0
    for part in ("kept", "duplicates", "errors"):
        one = read_shards(str(out / part / "**" / "*"))
        two = read_shards(str(out2 / part / "**" / "*"))
        assert one and [os.path.relpath(p, out) for p in one] == [os.path.relpath(p, out2) for p in two]
        assert list(one.values()) == list(two.values())
    s1, s2 = (json.loads((d / "stats.json").read_text()) for d in (out, out2))
    s1.pop("job"), s2.pop("job")
    assert s1 == s2


@pytest.mark.parametrize("override, message", [
    ("dedup.near.treshold=0.5", "unknown config key 'dedup.near.treshold'"),
    ("dedup.near.threshold=1.5", "dedup.near: threshold must be in (0, 1), got 1.5"),
    ("dedup.near.num_perm=many", "dedup.near.num_perm: expected int, got 'many'"),
])
def test_bad_config_is_one_line_exit_2(tmp_path, capsys, override, message):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    code, _, err = run(["dedup", "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "out"), override], capsys)
    assert code == 2
    assert err.strip() == f"palmkit dedup: error: {message}"
    assert not (tmp_path / "out").exists()


def test_missing_input_and_bad_config_file(tmp_path, capsys):
    code, _, err = run(["dedup", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "out")], capsys)
    assert code == 2 and err.strip() == f"palmkit dedup: error: input not found: {tmp_path / 'nope.jsonl'}"
    (tmp_path / "c.yaml").write_text("dedup:\n  near:\n    ngram: 0\n")
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    code, _, err = run(["dedup", "--config", str(tmp_path / "c.yaml"), "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "out")], capsys)
    assert code == 2 and err.startswith("palmkit dedup: error: dedup.near:") and err.count("\n") == 1
