"""``tts-service proof SLUG``: the flagged readings, one a line with their sentence; unknown slug: exit 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tts_service.cli import app

runner = CliRunner()


def test_proof_prints_flagged_readings_and_fails_clearly_for_an_unknown_slug(tmp_path: Path) -> None:
    env = {"TTS_HOME": str(tmp_path), "TTS_ENGINE": "espeak"}
    doc = tmp_path / "a.md"
    doc.write_text("# 标题\n\n他在银行当行长。\n\n今天天气很好。", encoding="utf-8")
    assert runner.invoke(app, ["add", str(doc), "--slug", "a"], env=env).exit_code == 0
    result = runner.invoke(app, ["proof", "a"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["当\tdāng\tdefault\t1.1\t他在银行当行长。"]
    assert result.stderr.strip() == "1 flagged"
    missing = runner.invoke(app, ["proof", "nope"], env=env)
    assert missing.exit_code == 1 and missing.stderr.strip() == "error: no article 'nope'"
    assert missing.stdout == ""
