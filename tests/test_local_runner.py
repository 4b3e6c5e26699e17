"""Bounded local bundles (pipeline/local_runner.py): same outputs and counters as Beam's stock bundling."""

import glob
import json
import logging

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import fn_runner

from pipeline import local_runner
from pipeline.dedup import Deduplicate
from pipeline.local_runner import bound_local_bundles, part_count
from tests.test_pipeline_dedup import CONFIG, DOCS

STOCK = fn_runner.ParallelBundleManager.process_bundle


@pytest.fixture(autouse=True)
def restore_runner():
    before = local_runner.current_max_bundle_bytes()
    yield
    bound_local_bundles(0)
    local_runner._state["warned"] = False
    if before:
        bound_local_bundles(before)


def test_part_count():
    mib = 2**20
    assert part_count(0, 2, 16 * mib) == 2
    assert part_count(10 * mib, 2, 16 * mib) == 2  # below the cap: Beam's one bundle per worker
    assert part_count(32 * mib, 2, 16 * mib) == 2
    assert part_count(32 * mib + 1, 2, 16 * mib) == 4  # 3 rounded up to a multiple of the workers
    assert part_count(100 * mib, 4, 16 * mib) == 8  # ceil(6.25) = 7 -> 8
    assert part_count(100 * mib, 3, 1 * mib) == 102
    assert part_count(100 * mib, 2, 0) == 2  # no cap: stock
    assert part_count(5, 1, 1) == 5


def test_install_is_idempotent_and_zero_restores_beam():
    assert bound_local_bundles(1 << 20)
    patched = fn_runner.ParallelBundleManager.process_bundle
    assert patched is not STOCK
    assert bound_local_bundles(2 << 20)
    assert fn_runner.ParallelBundleManager.process_bundle is patched
    assert local_runner.current_max_bundle_bytes() == 2 << 20
    assert not bound_local_bundles(0)
    assert fn_runner.ParallelBundleManager.process_bundle is STOCK
    assert local_runner.current_max_bundle_bytes() == 0


def test_other_beam_version_changes_nothing_and_warns_once(caplog):
    bound_local_bundles(0)
    with caplog.at_level(logging.WARNING, logger="pipeline.local_runner"):
        assert not bound_local_bundles(1 << 20, beam_version="2.78.0")
        assert not bound_local_bundles(1 << 20, beam_version="3.0.0")
    assert fn_runner.ParallelBundleManager.process_bundle is STOCK
    warnings = [r for r in caplog.records if r.name == "pipeline.local_runner"]
    assert len(warnings) == 1 and "2.78.0" in warnings[0].getMessage()
    assert local_runner.supported_beam_version("2.77.0") and local_runner.supported_beam_version("2.77.3")
    assert not local_runner.supported_beam_version("2.7.0")


class _Count(beam.DoFn):
    def process(self, doc):
        beam.metrics.Metrics.counter("test", "docs").inc()
        beam.metrics.Metrics.counter("test", "chars").inc(len(doc.text))
        beam.metrics.Metrics.distribution("test", "words").update(len(doc.text.split()))
        yield doc


def _run(out_dir, max_bundle_bytes):
    """Deduplicate on 2 worker processes plus our own counters; outputs as sorted lines, metric totals."""
    bound_local_bundles(max_bundle_bytes)
    local_runner.last_stages.clear()
    p = beam.Pipeline(options=PipelineOptions(direct_num_workers=2, direct_running_mode="multi_processing"))
    docs = p | beam.Create(DOCS, reshuffle=False) | "Spread" >> beam.Reshuffle() | beam.ParDo(_Count())
    r = docs | Deduplicate(CONFIG)
    r["duplicates"] | "DupJson" >> beam.Map(json.dumps, sort_keys=True) | "WriteDups" >> beam.io.WriteToText(
        str(out_dir / "dups"))
    r["kept"] | "KeptJson" >> beam.Map(lambda d: json.dumps(d.to_dict(), sort_keys=True)) | "WriteKept" >> (
        beam.io.WriteToText(str(out_dir / "kept")))
    result = p.run()
    result.wait_until_finish()
    metrics = result.metrics().query()
    counters, dists = {}, {}
    for c in metrics["counters"]:
        counters[c.key.metric.name] = counters.get(c.key.metric.name, 0) + c.committed
    for d in metrics["distributions"]:
        if d.key.metric.namespace != "test":
            continue  # BatchElements' own batch_size / msec_per_batch depend on bundle boundaries and time
        dists[d.key.metric.name] = (d.committed.sum, d.committed.count, d.committed.min, d.committed.max)

    def lines(name):
        return sorted(line for f in glob.glob(str(out_dir / name) + "*") for line in open(f) if line.strip())

    return {"kept": lines("kept"), "dups": lines("dups"), "counters": counters, "dists": dists,
            "stages": list(local_runner.last_stages)}


def test_many_small_bundles_give_stock_outputs_and_counters(tmp_path):
    stock = _run(tmp_path / "stock", 0)
    bounded = _run(tmp_path / "bounded", 16 * 1024)
    assert stock["stages"] == []  # Beam's own method ran
    cut = [s for s in bounded["stages"] if not s["stock"]]
    assert cut and max(s["parts"] for s in cut) > 4, bounded["stages"]
    assert all(s["parts"] % 2 == 0 for s in cut)
    assert len(stock["kept"]) + len(stock["dups"]) == len(DOCS) and stock["dups"]
    assert bounded["kept"] == stock["kept"]
    assert bounded["dups"] == stock["dups"]
    assert stock["counters"]["docs"] == len(DOCS)
    assert bounded["counters"] == stock["counters"]
    assert bounded["dists"] == stock["dists"]
