"""Article drafts: validation and slugs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tts_service.article import ArticleDraft, slugify
from tts_service.errors import InvalidInput, TooLarge


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("国际合作工作 2020", "guo-ji-he-zuo-gong-zuo-2020"),
        ("Hello, World!", "hello-world"),
        ("《北京宣言》", "bei-jing-xuan-yan"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_unsluggable_title() -> None:
    with pytest.raises(InvalidInput):
        slugify("！？🙂")


def test_text_is_stripped_and_required() -> None:
    assert ArticleDraft(title=" 标题 ", text="\n正文。\n").text == "正文。"
    with pytest.raises(ValidationError):
        ArticleDraft(title="标题", text=" \u3000 ")


def test_size_limit() -> None:
    draft = ArticleDraft(title="t", text="字" * 11)
    draft.check_size(11 + 1)
    with pytest.raises(TooLarge):
        draft.check_size(10)
