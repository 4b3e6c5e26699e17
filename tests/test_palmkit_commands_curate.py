"""``palmkit curate`` and ``palmkit langid`` from the command line: user errors exit 2 with one line."""

import json

import pytest

from palmkit import cli


def run(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_curate_missing_input_path(tmp_path, capsys):
    code, _, err = run(["curate", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.strip() == f"palmkit curate: error: input not found: {tmp_path / 'nope.jsonl'}"


def test_curate_unknown_config_key(tmp_path, capsys):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    code, _, err = run(["curate", "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "out"), "langid.treshold=0.3"], capsys)
    assert code == 2
    assert err.strip() == "palmkit curate: error: unknown config key 'langid.treshold'"


def test_curate_bad_per_language_threshold(tmp_path, capsys):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    code, _, err = run(["curate", "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "out"),
                        "langid.thresholds.da=0.3", "langid.thresholds.nb=1.2"], capsys)
    assert code == 2
    assert err.strip() == "palmkit curate: error: langid: thresholds.nb must be in [0, 1], got 1.2"


def test_curate_missing_model(tmp_path, capsys):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    code, _, err = run(["curate", "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "out"), f"langid.model={tmp_path}/m.ftz"], capsys)
    assert code == 2
    assert err.strip() == f"palmkit curate: error: language-ID model not found: {tmp_path}/m.ftz (set langid.model=PATH)"


def test_curate_bad_dataflow_options(tmp_path, capsys):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    code, _, err = run(["curate", "--input", str(tmp_path / "a.jsonl"), "--output", "gs://b/out", "--runner", "DataflowRunner",
                        "--", "--project", "palmkit-test-project"], capsys)
    assert code == 2
    assert err.startswith("palmkit curate: error: invalid Dataflow options:") and err.count("\n") == 1


SENTENCES = {
    "en": ["The weather is nice today and we are going to the park.", "Please close the door when you leave the room.",
           "She reads a book every evening before going to sleep.", "The train to the city leaves in ten minutes."],
    "de": ["Das Wetter ist heute schön und wir gehen in den Park.", "Bitte schließen Sie die Tür, wenn Sie den Raum verlassen.",
           "Sie liest jeden Abend ein Buch, bevor sie schlafen geht.", "Der Zug in die Stadt fährt in zehn Minuten ab."],
    "fr": ["Il fait beau aujourd'hui et nous allons au parc.", "Veuillez fermer la porte en quittant la pièce.",
           "Elle lit un livre chaque soir avant de se coucher.", "Le train pour la ville part dans dix minutes."],
}


def test_langid_train_then_eval(tmp_path, capsys):
    data = tmp_path / "labeled.jsonl"
    data.write_text("".join(json.dumps({"text": t, "lang": lang}) + "\n" for lang, ts in SENTENCES.items() for t in ts * 5))
    model = tmp_path / "m.bin"
    code, out, _ = run(["langid", "train", "--input", str(data), "--output", str(model), "--epoch", "30", "--bucket", "20000"], capsys)
    assert code == 0 and model.exists()
    assert json.loads(out)["languages"] == ["de", "en", "fr"]
    code, out, _ = run(["langid", "eval", "--model", str(model), "--input", str(data)], capsys)
    result = json.loads(out)
    assert code == 0 and result["n"] == 60
    assert set(result["per_language"]) == {"de", "en", "fr"}
    assert result["accuracy"] > 0.9


def test_langid_bad_record_is_one_line(tmp_path, capsys):
    data = tmp_path / "labeled.jsonl"
    data.write_text('{"text": "hello", "lang": "en"}\n{"text": "no language"}\n')
    code, _, err = run(["langid", "train", "--input", str(data), "--output", str(tmp_path / "m.bin")], capsys)
    assert code == 2
    assert err.strip() == f"palmkit langid: error: {data}:2: a record needs string fields 'text' and 'lang'"
