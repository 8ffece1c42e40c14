"""Saved article pages (HTML or scraped text) into title, byline, date and body paragraphs."""

from __future__ import annotations

import re
import socket

import pytest
from helpers import CORPUS, DATA
from hypothesis import given
from hypothesis import strategies as st

from tts_service.errors import InvalidInput
from tts_service.planning import spoken_form
from tts_service.text import references
from tts_service.text.document import Document
from tts_service.text.extract import decode, extract

PAGES = DATA / "pages"

# Fragments of page chrome, footers, related links and sidebars that must never reach the body.
NOT_BODY = (
    "【字体", "字体：", "语音播报", "打印", "关闭", "分享", "版权", "©", "ICP", "公网安备", "标识码",
    "地址", "电话：", "相关链接", "相关新闻", "上一篇", "下一篇", "热点推荐", "首页", "当前位置",
    "您现在的位置", "责任编辑", "来源：", "浏览次数", "扫一扫", "友情链接", "function", "document.", "var ",
)  # fmt: skip

EXPECTED = {
    "gov-library.html": (
        "青川市公共图书馆推出适老化阅读服务",
        "李文静",
        "2024-05-06",
        [
            "为方便老年读者就近阅读、轻松借阅，青川市公共图书馆自五月起在总馆和六个分馆同步推出适老化阅读服务，"
            "设置大字阅读区、放大镜借用点和有声读物角，让老年人进得来、坐得住、读得懂。",
            "在总馆二楼的大字阅读区，记者看到，书架高度统一降至一米四以下，书脊标签改用加粗大号字体，每张阅览桌都配有"
            "可调亮度的台灯。馆方负责人介绍，首批上架的大字版图书共一千二百余册，涵盖健康养生、历史人文和文学经典等类别。",
            "图为志愿者在大字阅读区帮助老年读者调整台灯亮度。",
            "针对部分老年读者不会使用自助借还机的问题，图书馆招募了三十名“银龄伙伴”志愿者，每周二和周四上午在服务台"
            "轮流值守，手把手演示借书、还书和续借流程。志愿者还会陪同行动不便的读者到书架前找书。",
            "有声读物角配备了十台大按键播放器，预装评书、戏曲和新闻摘要等内容。读者也可以在服务台登记，由工作人员把"
            "喜欢的节目拷贝到自带的收音机里。“眼睛花了也能听书，这个服务很贴心。”七十二岁的读者王秀英说。",
            "下一步，青川市公共图书馆将把适老化服务延伸到社区图书室，计划年内在二十个社区设立流动借阅点，并每月举办"
            "一次面向老年人的数字阅读讲座。",
        ],
    ),
    # GBK bytes; title in a <div>; the author is named, so 责任编辑 is not the byline.
    "news-gbk.html": (
        "江州：老旧小区加装电梯进入快车道",
        "陈思远 周敏",
        "2024-05-06",
        [
            "记者日前从市住房和城乡建设局获悉，今年一季度全市新开工老旧小区加装电梯项目一百零六台，已建成投用七十三台，"
            "开工数量是去年同期的两倍多，加装电梯工作正式进入快车道。",
            "家住和平街道东园小区的刘大爷今年七十六岁，腿脚不便，过去每次下楼都要歇好几回。“以前买菜要儿子陪着，"
            "现在电梯修到了家门口，我一个人就能下楼遛弯。”说起新装的电梯，他连连称赞。",
            "东园小区新装的电梯正式投入使用，居民排队体验。",
            "加装电梯难在协调。为化解高低楼层住户之间的分歧，各街道推行“一梯一议”工作法：社区先上门摸清意愿，"
            "再邀请规划、设计人员现场答疑，最后由住户自行协商出资比例。今年以来，全市共召开楼栋协调会四百多场。",
            "在审批环节，市住建局会同规划、消防等部门推出“一窗受理、并联审批”，办理时限由原来的四十五个工作日压缩到"
            "十五个工作日。符合条件的项目还可申请每台最高二十万元的市级补助。",
            "市住建局相关负责人表示，下一步将重点推动成片连线加装，鼓励同一小区统一设计、统一施工，力争全年完成加装电梯"
            "三百台以上。",
        ],
    ),
    # Date only as 2023年9月1日 09:30; the header's <h1> is the site name; no author, so the byline is 来源.
    "district-cn-date.html": (
        "南岭区开展秋季校园食品安全专项检查",
        "南岭区市场监督管理局",
        "2023-09-01",
        [
            "新学期开学在即，为守护师生“舌尖上的安全”，南岭区市场监督管理局会同区教育局，从八月下旬起对全区中小学校"
            "和幼儿园食堂开展为期两周的专项检查。",
            "检查组重点查看了食堂许可证照是否齐全、从业人员健康证明是否有效、食材进货查验记录是否完整，以及后厨清洗消毒"
            "和留样制度的落实情况。在南岭第二实验小学，检查人员随机抽查了当天的留样菜品，并逐项核对了冷库温度记录。",
            "截至目前，检查组共检查学校食堂八十七家、校园周边食品经营店一百二十四家，发现并督促整改问题二十九个，"
            "其中过期原料、记录缺失等问题已全部当场整改。",
            "区市场监督管理局负责人表示，开学后还将组织“陪餐日”开放活动，邀请家长代表走进食堂参与监督，"
            "推动校园食品安全共治共享。",
        ],
    ),
    # Old table layout with <br>-separated paragraphs, a bare name line and a (2024年5月6日) line.
    "institute-speech-table.html": (
        "在2024年青年科技人才座谈会上的讲话",
        "林海",
        "2024-05-06",
        [
            "同志们，今天请大家来，是想听一听青年科研人员在工作和生活中遇到的实际困难，也想和大家谈一谈研究院在培养"
            "青年人才方面的一些打算。",
            "过去五年，研究院四十岁以下的科研人员从二百人增加到三百五十人，承担国家级项目的青年负责人从十二人增加到"
            "四十一人。这些数字说明，青年人已经成为研究院科研工作的主力军。",
            "同时我们也要看到，青年人才普遍面临起步经费不足、实验平台排队时间长、事务性工作多等问题。刚才几位同志的"
            "发言，讲得很实在，有的问题我们当场就可以解决，有的需要研究院各部门共同想办法。",
            "第一，加大稳定支持力度。从今年起，研究院设立青年科学基金，每年遴选三十名左右的青年骨干，连续五年给予稳定"
            "经费支持，让大家能够坐得住冷板凳、啃得动硬骨头。",
            "第二，减少事务性负担。财务报销、设备采购和项目管理等流程要进一步简化，能在网上办理的一律网上办理，"
            "把宝贵的时间还给科研人员。",
            "希望同志们珍惜这个大有可为的时代，勇于挑大梁、当主角，在科学探索的道路上不断取得新的突破！",
        ],
    ),
    # A sidebar box of prose, longer than the article and not split from it by any chrome: trafilatura's
    # vote drops it.
    "street-sidebar.html": (
        "东城街道举办第三届邻里文化节",
        "东城街道办事处",
        "2024-05-06",
        [
            "五月五日，东城街道在中心广场举办第三届邻里文化节，二十多个社区的居民带来了合唱、舞蹈和书法展示。",
            "活动现场还设置了便民服务区，为居民提供义诊、家电维修和法律咨询等服务，吸引了众多居民参与。",
        ],
    ),
}


def assert_clean(body: str) -> None:
    leaked = [fragment for fragment in NOT_BODY if fragment in body]
    assert not leaked, f"chrome in body: {leaked}"


# ---- the scraped corpus page ----


def corpus_paragraphs() -> list[str]:
    """Independently of the heuristic: the speech is the indented lines that are not footer bullets."""
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if re.match(r"  [^\s•]", line)]


@pytest.mark.parametrize("as_bytes", [False, True])
def test_corpus_page(as_bytes: bool) -> None:
    content = CORPUS.read_bytes() if as_bytes else CORPUS.read_text(encoding="utf-8")
    doc = extract(content, filename=CORPUS.name)
    assert (doc.title, doc.byline, doc.date) == ("澳门赌场国际合作工作", "张亚平", "2020-01-17")
    paragraphs = doc.body.split("\n")
    assert paragraphs == corpus_paragraphs()
    assert len(paragraphs) == 10
    assert paragraphs[0].startswith("2019年是我们伟大祖国70周年华诞")
    assert paragraphs[-1].endswith("注入强大动能!")
    assert_clean(doc.body)
    assert "办院方针" not in doc.body and "面向世界科技前沿" not in doc.body  # slogans above the breadcrumb


def test_corpus_page_without_filename_is_read_as_text() -> None:
    assert extract(CORPUS.read_text(encoding="utf-8")).body.split("\n") == corpus_paragraphs()


# ---- HTML pages written for these tests ----


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_html_page(name: str) -> None:
    title, byline, date, paragraphs = EXPECTED[name]
    doc = extract((PAGES / name).read_bytes(), filename=name)
    assert (doc.title, doc.byline, doc.date) == (title, byline, date)
    assert doc.body.split("\n") == paragraphs
    assert_clean(doc.body)


def test_every_page_has_expectations() -> None:
    assert sorted(p.name for p in PAGES.glob("*.html")) == sorted(EXPECTED)


def test_gbk_page_is_decoded_from_its_meta_charset() -> None:
    raw = (PAGES / "news-gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert extract(raw) == extract(raw.decode("gbk"), filename="news-gbk.html")


def test_gb2312_declaration_still_decodes_gbk_only_characters() -> None:
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>'
    page += "<h1>座谈会</h1><p>发布时间：2024年5月6日</p><p>王堃和李镕介绍了工作安排。</p></body></html>"
    doc = extract(page.encode("gbk"))
    assert (doc.title, doc.date, doc.body) == ("座谈会", "2024-05-06", "王堃和李镕介绍了工作安排。")


@pytest.mark.parametrize(
    ("raw", "charset", "text"),
    [
        ("<p>臺北市政府公告</p>".encode("big5"), "big5", "<p>臺北市政府公告</p>"),  # GB18030 would misread it
        ('<meta charset="utf-8"><p>江州</p>'.encode("gbk"), "GBK", '<meta charset="utf-8"><p>江州</p>'),
        ("\ufeff<p>江州</p>".encode(), "gbk", "<p>江州</p>"),  # a BOM comes first
        ("<p>江州</p>".encode("gbk"), "no-such-charset", "<p>江州</p>"),
    ],
)
def test_the_http_headers_charset_comes_before_the_pages_own(raw: bytes, charset: str, text: str) -> None:
    """The order browsers follow: a BOM, the Content-Type header's charset, then the page's meta charset."""
    assert decode(raw, charset) == text


def test_utf8_bytes_without_a_declared_charset() -> None:
    page = "<html><body><h1>社区通知</h1><div>发布日期：2024-05-06</div>"
    page += "<p>本周六上午在社区广场开展义诊活动。</p></body></html>"
    doc = extract(page.encode("utf-8"))
    assert (doc.title, doc.date, doc.body) == ("社区通知", "2024-05-06", "本周六上午在社区广场开展义诊活动。")
    text = "社区通知\n\n本周六上午在社区广场开展义诊活动。\n".encode()
    assert extract(text).body == "本周六上午在社区广场开展义诊活动。"


def test_script_and_style_never_reach_the_body() -> None:
    page = """<html><head><title>通知</title><style>.x:before { content: "样式文字。" }</style>
    <script>var notice = "页头脚本里的一句话。";</script></head><body>
    <h1>通知</h1><div id="zoom"><p>第一段正文，介绍活动安排。</p>
    <script>document.write("脚本写出的文字，不能朗读。"); var speech = "另一句脚本文字。";</script>
    <noscript>请启用脚本以使用语音播报功能。</noscript>
    <p style="display:none">隐藏的段落也不能朗读。</p>
    <p>第二段正文，说明报名方式。</p></div>
    <script type="application/ld+json">{"headline": "结构化数据里的标题。"}</script></body></html>"""
    doc = extract(page)
    assert doc.body == "第一段正文，介绍活动安排。\n第二段正文，说明报名方式。"


# ---- metadata rules ----


@pytest.mark.parametrize(
    ("line", "date"),
    [
        ("2024-05-06", "2024-05-06"),
        ("2024-5-6 10:00", "2024-05-06"),
        ("2024/05/06 10:00:00", "2024-05-06"),
        ("2024.05.06", "2024-05-06"),
        ("2024年5月6日", "2024-05-06"),
        ("2023年9月1日 09:30", "2023-09-01"),
        ("（2024年05月06日）", "2024-05-06"),
        ("发布时间：2024年5月6日 星期一", "2024-05-06"),
        ("日期：2024-02-30", None),
    ],
)
def test_dates(line: str, date: str | None) -> None:
    doc = extract(f"标题\n{line}\n【字体：大 中 小】\n正文第一段，讲了一件事情。\n正文第二段。")
    assert (doc.title, doc.date, doc.body) == ("标题", date, "正文第一段，讲了一件事情。\n正文第二段。")


@pytest.mark.parametrize(
    ("meta", "byline"),
    [
        ("来源：市政府办公室　作者：王小明　责任编辑：李四", "王小明"),
        ("责任编辑：李四　来源：市政府办公室", "市政府办公室"),
        ("作者：王小明 李华", "王小明 李华"),
        ("责任编辑：李四", None),
        ("记者：赵六　发布时间：2024-05-06 10:00", "赵六"),
    ],
)
def test_byline_is_the_author_then_the_source_never_the_editor(meta: str, byline: str | None) -> None:
    doc = extract(f"首页 > 新闻\n活动标题\n{meta}\n正文第一段，讲了一件事情。\n打印 关闭窗口")
    assert (doc.title, doc.byline, doc.body) == ("活动标题", byline, "正文第一段，讲了一件事情。")


def test_editor_below_the_body_is_not_the_byline() -> None:
    doc = extract(
        "活动标题\n2024-05-06\n正文第一段，讲了一件事情。\n打印 责任编辑：任某某\n© 某单位 版权所有"
    )
    assert (doc.byline, doc.body) == (None, "正文第一段，讲了一件事情。")


def test_gov_meta_tags_fill_gaps() -> None:
    page = """<html><head><title>某市政府网</title><meta name="ArticleTitle" content="关于春季植树的倡议">
    <meta name="PubDate" content="2024-03-12 09:00"><meta name="ContentSource" content="市林业局"></head>
    <body><div class="t">关于春季植树的倡议</div><div>【字体：大 中 小】</div>
    <div><p>春回大地，欢迎市民参加义务植树活动。</p><p>报名请联系所在社区。</p></div></body></html>"""
    doc = extract(page)
    assert (doc.title, doc.byline, doc.date) == ("关于春季植树的倡议", "市林业局", "2024-03-12")
    assert doc.body == "春回大地，欢迎市民参加义务植树活动。\n报名请联系所在社区。"


def test_plain_text_without_chrome() -> None:
    doc = extract("标题\n\n第一段，讲了一件事情。\n第二段。\n")
    assert doc == Document(title="标题", body="第一段，讲了一件事情。\n第二段。")


# ---- nothing to read ----


@pytest.mark.parametrize("content", ["", b"", "  \n\t\n", "\ufeff"])
def test_empty_input(content: str | bytes) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        extract(content)


def test_navigation_only_page() -> None:
    page = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>某市人民政府</title></head><body>
    <div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> <a href="/zwfw/">政务服务</a></div>
    <ul><li><a href="/a/1.html">我市召开全市安全生产工作会议，部署下一阶段重点任务。</a></li>
    <li><a href="/a/2.html">市领导带队检查防汛准备工作，要求压实各方责任。</a></li></ul>
    <div>【字体：大 中 小】 语音播报 打印 关闭窗口</div>
    <div class="footer">版权所有 © 某市人民政府 京ICP备00000000号 地址：人民路一号</div></body></html>"""
    with pytest.raises(InvalidInput, match="no article body"):
        extract(page.encode("utf-8"), filename="index.html")


def test_navigation_only_text() -> None:
    text = "首页\n政务公开\n政务服务\n首页 > 重要信息\n【字体：大 中 小】\n语音播报\n© 1996 某单位 版权所有"
    with pytest.raises(InvalidInput, match="no article body"):
        extract(text)


def test_no_network_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("extract tried to open a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert extract((PAGES / "gov-library.html").read_bytes()).date == "2024-05-06"


_PIECES = st.sampled_from(
    ["\n", " ", "<p>", "</p>", "<div>", "<a href='x'>", "</a>", "<script>", "首页 > ", "【字体：大 中 小】",
     "语音播报", "作者：", "2024-05-06", "© 版权所有", "张三", "正文一句话。",
     "这是较长的一段正文，讲了一件事情。"]
)  # fmt: skip


@given(st.lists(st.one_of(_PIECES, st.text(max_size=5)), max_size=30).map("".join))
def test_any_input_gives_a_document_or_invalid_input(content: str) -> None:
    try:
        doc = extract(content)
    except InvalidInput:
        return
    assert doc.title and doc.body
    if "<" not in content:  # scraped text: every body line is a line of the input
        inputs = {references.in_text(line).strip() for line in content.splitlines()}
        assert all(line in inputs for line in doc.body.split("\n"))


def test_h1_named_in_title_beats_a_subtitle_above_the_meta_line() -> None:
    page = """<html><head><title>秋季运动会圆满落幕_校园新闻_某某中学</title></head><body>
    <h1 class="logo">某某中学</h1><h1>秋季运动会圆满落幕</h1><h2>——三个班级打破校纪录</h2>
    <div>发布时间：2024-10-20　作者：校团委</div>
    <div><p>十月十八日至十九日，学校举行第三十届秋季运动会，全校一千二百名学生参赛。</p></div></body></html>"""
    doc = extract(page)
    assert (doc.title, doc.byline, doc.date) == ("秋季运动会圆满落幕", "校团委", "2024-10-20")
    assert doc.body == "十月十八日至十九日，学校举行第三十届秋季运动会，全校一千二百名学生参赛。"


def test_title_right_above_the_body_with_no_meta_line() -> None:
    page = """<html><head><title>某某区人民政府</title></head><body>
    <div class="nav"><a href="/">首页</a></div>
    <h1>冬季供暖热线开通</h1><p>即日起，市民可拨打供暖服务热线反映室温不达标等问题。</p><p>热线全天有人值守。</p>
    </body></html>"""
    doc = extract(page)
    assert (doc.title, doc.byline, doc.date) == ("冬季供暖热线开通", None, None)
    assert doc.body == "即日起，市民可拨打供暖服务热线反映室温不达标等问题。\n热线全天有人值守。"


# ---- DTDs and entity references: never expanded, never read aloud ----

_XXE_BODY = """<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<p>关于做好春季防火工作的通知</p>
<p>各街道、各部门：当前正值春季防火关键期，请各单位高度重视&xxe;，认真落实防火责任。</p>
<p>要加强巡查检查&xxe;及时消除隐患，确保人民群众生命财产安全。</p>
</body></html>"""
_XXE_SUBSETS = [
    '<!DOCTYPE html [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>',
    # Over several lines, with a comment and a literal that both hold "]>", after an XML declaration.
    '<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" [\n'
    '  <!-- a comment with ]> in it -->\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
    '  <!ENTITY tricky "]>">\n]>',
]


@pytest.mark.parametrize("doctype", _XXE_SUBSETS)
@pytest.mark.parametrize("title", ["关于做好春季防火工作的通知", "关于做好春季防火工作的通知&xxe;", "&xxe;"])
def test_internal_subset_and_undeclared_entities_are_dropped(doctype: str, title: str) -> None:
    doc = extract(doctype + "\n" + _XXE_BODY.format(title=title), filename="notice.html")
    assert doc.title == "关于做好春季防火工作的通知"
    assert doc.body == (
        "各街道、各部门：当前正值春季防火关键期，请各单位高度重视，认真落实防火责任。\n"
        "要加强巡查检查及时消除隐患，确保人民群众生命财产安全。"
    )
    for text in (doc.title, doc.body, spoken_form(doc.body)):
        for needle in ("]>", "&xxe;", "xxe", "ENTITY", "passwd", "root:"):
            assert needle not in text


def test_billion_laughs_is_not_expanded() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    page = f"""<!DOCTYPE html [<!ENTITY lol0 "lol">{lol}]>
    <html><body><h1>开馆通知</h1><p>图书馆周一开馆&lol9;，欢迎读者前来借阅。</p></body></html>"""
    doc = extract(page)
    assert (doc.title, doc.body) == ("开馆通知", "图书馆周一开馆，欢迎读者前来借阅。")


def test_known_entities_still_read() -> None:
    page = """<!DOCTYPE html><html><body><h1>通知&mdash;春季&amp;夏季</h1>
    <p>请于三点&nbsp;前到场&hellip;&hellip;已完成&check;&#x2713;&#8212;&lt;b&gt;，写作&amp;xxe;也照原样显示。</p>
    </body></html>"""
    doc = extract(page)
    assert doc.title == "通知—春季&夏季"
    assert doc.body == "请于三点 前到场……已完成✓✓—<b>，写作&xxe;也照原样显示。"


def test_scraped_text_entities_are_resolved_or_dropped() -> None:
    text = (
        "关于做好春季防火工作的通知&xxe;\n"
        "各街道、各部门：当前正值春季防火关键期&mdash;请各单位高度重视&xxe;，认真落实防火责任&#12290;\n"
    )
    doc = extract(text)
    assert doc.title == "关于做好春季防火工作的通知"
    assert doc.body == "各街道、各部门：当前正值春季防火关键期—请各单位高度重视，认真落实防火责任。"
