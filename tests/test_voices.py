"""The voice catalog: offline voices, edge's from the shipped and a refreshed list; OpenAI's names."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from edge_double import ENGLISH_VOICE

from tts_service.config import Settings
from tts_service.engines import ENGINE_NAMES, EngineRegistry
from tts_service.engines import check_engine as registry_check_engine
from tts_service.engines.edge import VOICES, EdgeEngine
from tts_service.engines.espeak import EspeakEngine
from tts_service.engines.local import LocalEngine
from tts_service.errors import InvalidInput
from tts_service.voices import (
    EDGE_LIST_FILE,
    ENGINES,
    OPENAI_EDGE_VOICES,
    OPENAI_VOICES,
    VoiceCatalog,
    check_engine,
    edge_voice,
    offered_voices,
    resolve_voice,
    shipped_edge_voices,
)

README = Path(__file__).resolve().parents[1] / "README.md"
# The edge voices accepted before the catalog existed: each must stay accepted, whatever a list says.
ACCEPTED_BEFORE = (
    "zh-CN-XiaoxiaoNeural",
    "zh-CN-XiaoyiNeural",
    "zh-CN-YunjianNeural",
    "zh-CN-YunxiNeural",
    "zh-CN-YunxiaNeural",
    "zh-CN-YunyangNeural",
    "zh-CN-liaoning-XiaobeiNeural",
    "zh-CN-shaanxi-XiaoniNeural",
    "zh-HK-HiuGaaiNeural",
    "zh-HK-HiuMaanNeural",
    "zh-HK-WanLungNeural",
    "zh-TW-HsiaoChenNeural",
    "zh-TW-HsiaoYuNeural",
    "zh-TW-YunJheNeural",
)
SHIPPED = VoiceCatalog(None)


def entry(short: str, gender: str = "Female", **extra: object) -> dict[str, object]:
    """An entry of Microsoft's list, as list_voices gives it."""
    locale = "-".join(short.split("-")[:-1])
    name = short.split("-")[-1].removesuffix("Neural")
    friendly = f"Microsoft {name} Online (Natural) - Chinese (Mainland)"
    base = {"ShortName": short, "Gender": gender, "Locale": locale, "FriendlyName": friendly}
    return base | {"VoiceTag": {"ContentCategories": ["General"], "VoicePersonalities": ["Friendly"]}} | extra


def write_refreshed(home: Path, voices: object) -> None:
    (home / EDGE_LIST_FILE).write_text(json.dumps(voices, ensure_ascii=False), encoding="utf-8")


def test_every_engine_has_voices_and_one_default_its_engine_agrees_with() -> None:
    voices = SHIPPED.voices()
    assert [v.engine for v in voices] == sorted((v.engine for v in voices), key=ENGINE_NAMES.index)
    defaults = {v.engine: v.id for v in voices if v.default}
    assert defaults == {"local": "baker", "espeak": "cmn", "edge": "zh-CN-XiaoxiaoNeural"}
    assert defaults == {
        "local": LocalEngine.default_voice,
        "espeak": EspeakEngine.default_voice,
        "edge": EdgeEngine.default_voice,
    }
    assert SHIPPED.ids("local") == LocalEngine.voices == ("baker",)
    assert SHIPPED.ids("espeak") == EspeakEngine.voices == ("cmn", "cmn-latn-pinyin")
    assert SHIPPED.ids("edge") == VOICES == EdgeEngine().voices
    assert {v.offline for v in voices if v.engine != "edge"} == {True}
    assert {v.offline for v in voices if v.engine == "edge"} == {False}
    assert {v.gender for v in voices} == {"female", "male"}
    with pytest.raises(InvalidInput, match="unknown engine 'piper'; valid engines: local, espeak, edge"):
        SHIPPED.voices("piper")


def test_the_catalog_knows_the_engines_the_registry_builds() -> None:
    assert ENGINES == ENGINE_NAMES
    for check in (check_engine, registry_check_engine):
        assert check("edge") == "edge"
        with pytest.raises(InvalidInput) as refused:
            check("piper")
        assert refused.value.message == "unknown engine 'piper'; valid engines: local, espeak, edge"


def test_the_shipped_list_is_the_chinese_voices_accepted_before() -> None:
    assert tuple(sorted(v.id for v in shipped_edge_voices())) == ACCEPTED_BEFORE == VOICES
    (xiaoxiao,) = [v for v in SHIPPED.voices("edge") if v.id == "zh-CN-XiaoxiaoNeural"]
    assert (xiaoxiao.name, xiaoxiao.language, xiaoxiao.locale) == ("Xiaoxiao", "zh-CN", "zh-CN")
    assert (xiaoxiao.locale_name, xiaoxiao.gender) == ("Chinese (Mainland)", "female")
    assert (xiaoxiao.categories, xiaoxiao.personalities) == (("News", "Novel"), ("Warm",))
    (xiaobei,) = [v for v in SHIPPED.voices("edge") if v.id == "zh-CN-liaoning-XiaobeiNeural"]
    assert (xiaobei.name, xiaobei.language, xiaobei.locale) == ("Xiaobei", "zh-CN", "zh-CN-liaoning")
    assert xiaobei.locale_name == "Chinese (Northeastern Mandarin)"
    by_gender = {g: sum(v.gender == g for v in SHIPPED.voices("edge")) for g in ("female", "male")}
    assert by_gender == {"female": 8, "male": 6}


def test_a_refreshed_list_adds_voices_updates_them_and_drops_none(tmp_path: Path) -> None:
    renamed = entry(
        "zh-CN-XiaoxiaoNeural", VoiceTag={"ContentCategories": ["Chat"], "VoicePersonalities": []}
    )
    new = entry(
        "zh-CN-XiaochenNeural", FriendlyName="Microsoft Xiaochen Online (Natural) - Chinese (Mainland)"
    )
    write_refreshed(
        tmp_path, {"source": "test", "date": "2026-12-02", "voices": [renamed, new, ENGLISH_VOICE]}
    )
    catalog = VoiceCatalog(tmp_path)

    ids = catalog.ids("edge")
    assert set(ids) == {*ACCEPTED_BEFORE, "zh-CN-XiaochenNeural"}  # the other 13 were not listed: kept
    assert "en-US-EmmaMultilingualNeural" not in ids  # not a Chinese voice
    voices = {v.id: v for v in catalog.voices("edge")}
    assert voices["zh-CN-XiaoxiaoNeural"].categories == ("Chat",)  # the refreshed details win
    assert voices["zh-CN-XiaoxiaoNeural"].default and not voices["zh-CN-XiaochenNeural"].default
    assert voices["zh-CN-XiaochenNeural"].name == "Xiaochen"
    # The edge engine a server builds for this TTS_HOME accepts what its catalog offers.
    engine = EngineRegistry(Settings(home=tmp_path, engine="edge")).get("edge")
    assert engine.voices == ids and engine.default_voice == "zh-CN-XiaoxiaoNeural"


def test_a_refreshed_list_may_be_the_bare_array_edge_tts_returns(tmp_path: Path) -> None:
    write_refreshed(tmp_path, [entry("zh-TW-HsiaoYuNeural"), entry("zh-CN-XiaohanNeural")])
    assert "zh-CN-XiaohanNeural" in VoiceCatalog(tmp_path).ids("edge")


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        json.dumps({"voices": "none"}).encode(),
        json.dumps([ENGLISH_VOICE]).encode(),
    ],
    ids=["not-json", "not-utf8", "not-a-list", "no-chinese-voice"],
)
def test_an_unusable_refreshed_list_is_ignored_with_a_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / EDGE_LIST_FILE).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="tts_service.voices"):
        assert VoiceCatalog(tmp_path).ids("edge") == ACCEPTED_BEFORE
    assert f"ignoring the edge voice list {tmp_path / EDGE_LIST_FILE}" in caplog.text


def test_the_catalog_reads_the_list_once(tmp_path: Path) -> None:
    catalog = VoiceCatalog(tmp_path)
    assert catalog.ids("edge") == ACCEPTED_BEFORE
    write_refreshed(tmp_path, [entry("zh-CN-XiaochenNeural")])
    assert catalog.ids("edge") == ACCEPTED_BEFORE  # as the engine built at start-up: until the next start
    assert "zh-CN-XiaochenNeural" in VoiceCatalog(tmp_path).ids("edge")


def test_entries_without_a_friendly_name_or_with_a_bad_gender(caplog: pytest.LogCaptureFixture) -> None:
    plain = edge_voice({"ShortName": "zh-CN-XiaoruiNeural", "Gender": "Female", "Locale": "zh-CN"})
    assert (plain.name, plain.locale_name, plain.categories) == ("Xiaorui", "", ())
    with pytest.raises(ValueError, match="neither Female nor Male"):
        edge_voice(entry("zh-CN-XiaoruiNeural", gender="Neutral"))
    # One unusable entry is left out, not the whole list.
    listed = [
        entry("zh-CN-XiaoruiNeural", gender="Neutral"),
        {"Locale": "zh-CN"},
        entry("zh-CN-XiaomoNeural", VoiceTag=["News"]),
        entry("zh-CN-XiaohanNeural"),
    ]
    with caplog.at_level(logging.WARNING, logger="tts_service.voices"):
        assert [v.id for v in offered_voices(listed)] == ["zh-CN-XiaohanNeural"]
    assert "leaving out an edge voice: zh-CN-XiaoruiNeural: Gender 'Neutral'" in caplog.text
    assert "leaving out an edge voice: a voice without ShortName, Locale and Gender" in caplog.text
    assert "leaving out an edge voice: zh-CN-XiaomoNeural: VoiceTag ['News'] is not an object" in caplog.text
    with pytest.raises(ValueError, match=r"no usable voice of a zh-\* locale"):
        offered_voices(listed[:3])


@pytest.mark.parametrize(
    ("name", "edge"),
    [
        ("alloy", "zh-CN-XiaoxiaoNeural"),
        ("ash", "zh-CN-YunjianNeural"),
        ("ballad", "zh-CN-YunxiNeural"),
        ("coral", "zh-CN-XiaoyiNeural"),
        ("echo", "zh-CN-YunyangNeural"),
        ("fable", "zh-CN-YunxiNeural"),
        ("onyx", "zh-CN-YunyangNeural"),
        ("nova", "zh-CN-XiaoyiNeural"),
        ("sage", "zh-CN-XiaoxiaoNeural"),
        ("shimmer", "zh-CN-XiaoxiaoNeural"),
        ("verse", "zh-CN-YunjianNeural"),
        ("marin", "zh-CN-XiaoxiaoNeural"),
        ("cedar", "zh-CN-YunxiNeural"),
    ],
)
def test_openai_voices_map_to_ours(name: str, edge: str) -> None:
    assert resolve_voice("edge", name) == edge
    assert resolve_voice("edge", name.upper()) == edge
    assert resolve_voice("local", name) == "baker"
    assert resolve_voice("espeak", name) == "cmn"


def test_the_mapping_covers_openais_voices_with_voices_of_the_right_gender() -> None:
    assert OPENAI_VOICES == (
        *("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx"),
        *("nova", "sage", "shimmer", "verse", "marin", "cedar"),
    )
    genders = {v.id: v.gender for v in SHIPPED.voices("edge")}
    male = {"ash", "ballad", "echo", "fable", "onyx", "verse", "cedar"}
    assert {name for name, voice in OPENAI_EDGE_VOICES.items() if genders[voice] == "male"} == male
    assert all(voice.startswith("zh-CN-") for voice in OPENAI_EDGE_VOICES.values())  # Mainland Mandarin


def test_the_readme_documents_the_mapping() -> None:
    section = README.read_text(encoding="utf-8").split("\n## Voices\n", 1)[1].split("\n## ", 1)[0]
    row = r"^\| `(\w+)` \| [^|]+ \| (\w+) \| `([\w-]+)` \| `(\w+)` \| `(\w+)` \|$"
    rows = re.findall(row, section, re.MULTILINE)
    assert [row[0] for row in rows] == list(OPENAI_VOICES)
    genders = {v.id: v.gender for v in SHIPPED.voices("edge")}
    for name, gender, edge, local, espeak in rows:
        assert (edge, local, espeak) == (OPENAI_EDGE_VOICES[name], "baker", "cmn")
        assert gender == genders[edge]


def test_our_own_voices_pass_and_others_are_refused_naming_the_valid_ones(tmp_path: Path) -> None:
    assert resolve_voice("edge", None) is None
    assert resolve_voice("edge", "zh-TW-HsiaoYuNeural") == "zh-TW-HsiaoYuNeural"
    assert resolve_voice("espeak", "cmn-latn-pinyin") == "cmn-latn-pinyin"
    with pytest.raises(InvalidInput) as refused:
        resolve_voice("local", "zh-CN-XiaoxiaoNeural")  # an edge voice is not the local engine's
    assert refused.value.message == (
        "unknown voice 'zh-CN-XiaoxiaoNeural' for engine 'local'; valid voices: baker, or OpenAI's: "
        "alloy, ash, ballad, coral, echo, fable, onyx, nova, sage, shimmer, verse, marin, cedar"
    )
    with pytest.raises(InvalidInput, match="unknown engine 'openai'"):
        resolve_voice("openai", "alloy")
    # A voice of a refreshed list is ours for the server whose TTS_HOME has it.
    write_refreshed(tmp_path, [entry("zh-CN-XiaochenNeural")])
    with pytest.raises(InvalidInput, match="valid voices: zh-CN-XiaoxiaoNeural, zh-CN-XiaoyiNeural"):
        resolve_voice("edge", "zh-CN-XiaochenNeural")
    assert resolve_voice("edge", "zh-CN-XiaochenNeural", VoiceCatalog(tmp_path)) == "zh-CN-XiaochenNeural"
