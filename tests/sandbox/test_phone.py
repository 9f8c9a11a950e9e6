"""The WeCom phone in the browser: /phone pages, the feed its script polls and the acts its buttons call."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.client import SandboxClient
from sandbox.phone_view import PhoneView

from .conftest import AGENT_ID, CORP_ID, Receiver, WeComApi, card
from .phonepage import elements, feed, http, messages_html, page

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_chooser_lists_people_with_unit_and_roles(sb: SandboxClient, api: WeComApi) -> None:
    sb.people(
        [
            {"userid": "zhangsan", "name": "张三", "unit": "网评组", "roles": ["网评员"]},
            {"userid": "wangwu", "name": "王五", "unit": "执法一队", "roles": ["单位负责人", "网评员"]},
            {"userid": "lisi", "name": "李四"},
        ]
    )
    html = http().get(sb.base_url + "/phone", timeout=10).text
    people = elements(html, "person")
    assert [p["data-userid"] for p in people] == ["zhangsan", "wangwu", "lisi"]
    assert "执法一队" in people[1]["text"]
    assert "单位负责人、网评员" in people[1]["text"]
    boxes = re.findall(r'<input type="checkbox" name="u" value="([^"]+)">', html)
    assert boxes == ["zhangsan", "wangwu", "lisi"]
    assert [a["href"] for a in elements(html, "open-one")] == ["/phone?u=zhangsan", "/phone?u=wangwu", "/phone?u=lisi"]
    got = api.get("user/get", userid="wangwu")
    assert got["name"] == "王五"
    assert "unit" not in got
    assert "roles" not in got
    for bad in ({"userid": "x", "roles": "网评员"}, {"userid": "x", "unit": 3}):
        resp = http().post(sb.base_url + "/sandbox/people", json={"people": [bad]}, timeout=10)
        assert resp.status_code == 400
    assert (
        http()
        .post(sb.base_url + "/sandbox/people", json={"people": [{"userid": "a", "name": "A"}]}, timeout=10)
        .status_code
        == 200
    )  # the old record format still works


def test_several_phones_side_by_side(sb: SandboxClient) -> None:
    sb.people(
        [{"userid": "alice", "name": "Alice", "unit": "办公室", "roles": ["办公室"]}, {"userid": "bob", "name": "Bob"}]
    )
    html = page(sb, "alice", "bob", "mallory")
    phones = elements(html, "phone")
    assert [p["data-userid"] for p in phones] == ["alice", "bob", "mallory"]
    assert all(p["data-mode"] == "input" and p["data-has-menu"] == "0" and p["data-conv"] == "" for p in phones)
    assert "办公室" in phones[0]["text"]
    assert "不在通讯录" in phones[2]["text"]
    assert [e["text"] for e in elements(html, "conv-name")] == ["瞭望"] * 3
    assert len(elements(html, "send-btn")) == 3
    assert html.count('<textarea name="text"') == 3
    assert [p["data-userid"] for p in elements(page(sb, "bob,alice", "bob"), "phone")] == ["bob", "alice"]
    sb.config(app_name="舆情助手")
    try:
        assert [e["text"] for e in elements(page(sb, "alice"), "conv-name")] == ["舆情助手"]
    finally:
        sb.config(app_name="瞭望")
    for asset in ("phone.js", "phone.css"):
        assert http().get(f"{sb.base_url}/phone/static/{asset}", timeout=10).status_code == 200


def test_feed_renders_messages_cards_and_buttons(sb: SandboxClient, api: WeComApi) -> None:
    assert api.send("alice", "text", {"content": "第一行\n第二行"})["errcode"] == 0
    md = '**加粗** [详情](https://e.example/x) <font color="warning">超时</font>\n# 标题'
    assert api.send("alice", "markdown", {"content": md})["errcode"] == 0
    tc = {
        "title": "待签收",
        "description": '<div class="gray">11月26日</div><div class="highlight">请签收</div>',
        "url": "https://e.example/item",
    }
    assert api.send("alice", "textcard", tc)["errcode"] == 0
    full = card(
        "task-p1",
        ("ack",),
        source={"desc": "瞭望·舆情"},
        sub_title_text="执法一队执法粗暴",
        horizontal_content_list=[
            {"keyname": "编号", "value": "YQ-1"},
            {"keyname": "负责人", "type": 3, "userid": "bob"},
        ],
        jump_list=[{"type": 1, "title": "查看经过", "url": "https://e.example/j"}],
        card_action={"type": 1, "url": "https://e.example/a"},
    )
    full["button_list"].append({"type": 1, "text": "打开网页", "url": "https://e.example/b"})
    assert api.send("alice", "template_card", full)["errcode"] == 0
    answer = feed(sb, "alice")
    msgs = answer["phones"]["alice"]["messages"]
    assert [m["msgtype"] for m in msgs] == ["text", "markdown", "textcard", "template_card"]
    assert answer["cursor"] == sb.cursor()
    assert answer["reset"] is False
    text, markdown, textcard, tpl = (m["html"] for m in msgs)
    assert "第一行\n第二行" in elements(text, "bubble-text")[0]["text"]
    assert "<b>加粗</b>" in markdown
    assert 'class="md-warning">超时' in markdown
    assert 'md-h1">标题' in markdown
    assert 'data-open="https://e.example/x"' in markdown
    assert elements(textcard, "textcard")[0]["data-open"] == "https://e.example/item"
    assert '<div class="tc-gray">11月26日</div>' in textcard
    assert "详情" in elements(textcard, "tc-more")[0]["text"]
    shown = elements(tpl, "card")[0]
    assert shown["data-task-id"] == "task-p1"
    assert shown["data-open"] == "https://e.example/a"
    for part, expected in (
        ("card-source", "瞭望·舆情"),
        ("card-title", "审批"),
        ("card-desc", "d"),
        ("card-sub", "执法一队执法粗暴"),
        ("card-jump", "查看经过"),
    ):
        assert elements(tpl, part)[0]["text"].strip().startswith(expected), part
    assert [r["text"] for r in elements(tpl, "card-kv-row")] == ["编号YQ-1", "负责人Bob"]
    buttons = elements(tpl, "card-btn")
    assert [(b["text"], b.get("data-act"), b.get("data-key"), b.get("data-open")) for b in buttons] == [
        ("ack", "card_click", "ack", None),
        ("打开网页", None, None, "https://e.example/b"),
    ]
    assert feed(sb, "alice", since=answer["cursor"])["phones"]["alice"]["messages"] == []


def test_card_button_click_reaches_the_app_and_shows_the_replaced_button(
    sb: SandboxClient, api: WeComApi, receiver: Receiver
) -> None:
    api.send("alice|bob", "template_card", card("task-p2", ("ack", "later")))
    html = page(sb, "alice", "bob")
    acts = elements(html, "phones")[0]["data-acts"]
    button = next(b for b in elements(html, "card-btn") if b["data-key"] == "ack")
    since = sb.cursor()
    resp = http().post(
        sb.base_url + acts + button["data-act"],
        timeout=30,
        json={"userid": "alice", "task_id": button["data-task-id"], "key": button["data-key"]},
    )
    assert resp.status_code == 200
    assert resp.json()["statuses"] == [200]
    event = receiver.received[-1].fields
    assert (event["Event"], event["EventKey"], event["TaskId"], event["FromUserName"]) == (
        "template_card_event",
        "ack",
        "task-p2",
        "alice",
    )
    body = {
        "agentid": AGENT_ID,
        "response_code": event["ResponseCode"],
        "userids": ["alice"],
        "button": {"replace_name": "Alice 已签收"},
    }
    assert api.post("message/update_template_card", body)["errcode"] == 0
    changed = feed(sb, "alice", "bob", since=since, timeout=2)
    assert changed["phones"]["bob"]["messages"] == []
    [update] = changed["phones"]["alice"]["messages"]
    assert update["key"] == int(elements(html, "msg")[0]["data-key"])  # the same message, redrawn in place
    assert elements(update["html"], "card-replaced")[0]["text"] == "Alice 已签收"
    assert elements(update["html"], "card-btn") == []
    bob_page = page(sb, "bob")
    assert [b["data-key"] for b in elements(bob_page, "card-btn")] == ["ack", "later"]


def test_message_content_is_escaped(sb: SandboxClient, api: WeComApi) -> None:
    api.send("alice", "text", {"content": '<script>alert(1)</script> <a href="javascript:alert(2)">x</a>'})
    api.send("alice", "markdown", {"content": "<img src=x onerror=alert(3)> [y](javascript:alert(4))"})
    api.send("alice", "template_card", card("task-p3", ("<b>k</b>",), sub_title_text="<script>s</script>"))
    html = page(sb, "alice")
    html_feed = messages_html(feed(sb, "alice"), "alice")
    for shown in (html, html_feed):
        assert "<script>alert" not in shown
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
        assert "<img src=x" not in shown
        assert "&lt;img src=x onerror=alert(3)&gt;" in shown
        assert "javascript:" not in shown
        assert "<script>s</script>" not in shown
        assert 'data-key="&lt;b&gt;k&lt;/b&gt;"' in shown


def test_oauth_links_identify_each_phone(sb: SandboxClient, api: WeComApi) -> None:
    authorize = (
        f"{sb.base_url}/connect/oauth2/authorize?appid={CORP_ID}&redirect_uri=https%3A%2F%2Fapp.example"
        f"%2Fh5%2Fupload&response_type=code&scope=snsapi_base&state=lw&agentid={AGENT_ID}#wechat_redirect"
    )
    api.send("alice|bob", "textcard", {"title": "上传书面报告", "description": "d", "url": authorize})
    wecom = authorize.replace(sb.base_url, "https://open.weixin.qq.com")
    menu = {
        "button": [{"type": "view", "name": "上传", "url": wecom}, {"type": "click", "name": "待办", "key": "TODO"}]
    }
    assert api.post("menu/create", menu, agentid=AGENT_ID)["errcode"] == 0
    api.send("alice", "textcard", {"title": "外部", "description": "d", "url": "https://weibo.example/1?a=b"})
    html = page(sb, "alice", "bob")
    cards = elements(html, "textcard")
    alice_oauth, external, bob_oauth = (c["data-open"] for c in cards)
    for url, userid in ((alice_oauth, "alice"), (bob_oauth, "bob")):
        parts = urlsplit(url)
        assert parts.fragment == "wechat_redirect"
        assert parse_qs(parts.query)["as_user"] == [userid]
    assert external == "https://weibo.example/1?a=b"
    views = [b["data-open"] for b in elements(html, "menu-btn") if b.get("data-menu-url")]
    assert [parse_qs(urlsplit(v).query)["as_user"] for v in views] == [["alice"], ["bob"]]
    assert all(v.startswith(sb.base_url + "/connect/oauth2/authorize?") for v in views)
    browser = http()
    browser.cookies.set("sandbox_user", "carol")  # a shared cookie must not decide who is logged in
    resp = browser.get(bob_oauth, allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("https://app.example/h5/upload?")
    code = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
    assert api.get("auth/getuserinfo", code=code)["userid"] == "bob"


def test_menu_buttons_send_click_events(sb: SandboxClient, api: WeComApi, receiver: Receiver) -> None:
    menu = {
        "button": [
            {"type": "click", "name": "上报舆情", "key": "REPORT"},
            {
                "name": "更多",
                "sub_button": [
                    {"type": "click", "name": "帮助", "key": "HELP"},
                    {"type": "view", "name": "网页", "url": "https://e.example"},
                ],
            },
        ]
    }
    assert api.post("menu/create", menu, agentid=AGENT_ID)["errcode"] == 0
    html = page(sb, "alice")
    assert elements(html, "phone")[0]["data-mode"] == "menu"
    assert elements(html, "phone")[0]["data-has-menu"] == "1"
    top = elements(html, "menu-btn")
    assert [(b["text"], b.get("data-menu-key"), b.get("data-action")) for b in top] == [
        ("上报舆情", "REPORT", None),
        ("更多", None, "menu-open"),
    ]
    subs = elements(html, "menu-sub-btn")
    assert [(b["text"], b.get("data-menu-key"), b.get("data-open")) for b in subs] == [
        ("帮助", "HELP", None),
        ("网页", None, "https://e.example"),
    ]
    acts = elements(html, "phones")[0]["data-acts"]
    resp = http().post(sb.base_url + acts + subs[0]["data-act"], json={"userid": "alice", "key": "HELP"}, timeout=30)
    assert resp.status_code == 200
    event = receiver.received[-1].fields
    assert (event["Event"], event["EventKey"], event["FromUserName"]) == ("click", "HELP", "alice")
    old = feed(sb, "alice", menu="none")["phones"]["alice"]
    assert old["has_menu"] is True
    assert 'data-menu-key="REPORT"' in old["menu_html"]
    assert "menu_html" not in feed(sb, "alice", menu=feed(sb, "alice")["menu_sig"])["phones"]["alice"]


def test_sent_messages_and_passive_replies_appear(sb: SandboxClient, receiver: Receiver) -> None:
    def reply(fields: dict[str, str]) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{fields['FromUserName']}]]></ToUserName><FromUserName><![CDATA["
            f"{CORP_ID}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[收到：<b>]]></Content></xml>"
        )

    receiver.reply = reply
    said = http().post(sb.base_url + "/sandbox/say", json={"userid": "alice", "text": "你好\n<i>"}, timeout=30)
    assert said.status_code == 200
    link = {"userid": "alice", "url": "https://weibo.example/2", "title": "微博"}
    assert http().post(sb.base_url + "/sandbox/link", json=link, timeout=30).status_code == 200
    assert [r.fields["MsgType"] for r in receiver.received] == ["text", "link"]
    msgs = feed(sb, "alice")["phones"]["alice"]["messages"]
    kinds = [(elements(m["html"], "msg")[0]["data-dir"], m["msgtype"]) for m in msgs]
    assert kinds == [("out", "text"), ("in", "text"), ("out", "link"), ("in", "text")]
    first = elements(msgs[0]["html"], "msg")[0]
    assert first["data-status"] == "ok"
    assert first["data-msgid"] == said.json()["msg_id"]
    assert "你好\n&lt;i&gt;" in msgs[0]["html"]
    assert "收到：&lt;b&gt;" in msgs[1]["html"]
    assert elements(msgs[1]["html"], "msg")[0]["data-passive"] == "1"
    assert elements(msgs[2]["html"], "bubble-link")[0]["data-open"] == "https://weibo.example/2"
    assert sb.inbox("alice")[0]["passive"] is True  # the control inbox still holds only what alice received
    receiver.shutdown()
    sb.config(callback_tries=1, callback_timeout=0.5)
    assert http().post(sb.base_url + "/sandbox/say", json={"userid": "bob", "text": "在吗"}, timeout=30).ok
    failed = elements(messages_html(feed(sb, "bob"), "bob"), "msg")
    assert [(m["data-dir"], m["data-status"]) for m in failed] == [("out", "failed")]


def test_nothing_is_shown_as_sent_without_a_callback_url(sb: SandboxClient) -> None:
    resp = http().post(sb.base_url + "/sandbox/say", json={"userid": "alice", "text": "x"}, timeout=10)
    assert resp.status_code == 409
    assert feed(sb, "alice")["phones"]["alice"]["messages"] == []


def test_image_upload_from_the_phone(sb: SandboxClient, api: WeComApi, receiver: Receiver) -> None:
    html = page(sb, "alice")
    assert 'type="file" name="image"' in html
    acts = elements(html, "phones")[0]["data-acts"]
    resp = http().post(
        sb.base_url + acts + "image", data={"userid": "alice"}, files={"image": ("shot.png", PNG)}, timeout=30
    )
    assert resp.status_code == 200
    media_id = resp.json()["media_id"]
    event = receiver.received[-1].fields
    assert (event["MsgType"], event["MediaId"], event["FromUserName"]) == ("image", media_id, "alice")
    got = api.http.get(api.base + "media/get", params={"access_token": api.token(), "media_id": media_id}, timeout=10)
    assert got.content == PNG
    assert got.headers["Content-Type"] == "image/png"
    [shown] = feed(sb, "alice")["phones"]["alice"]["messages"]
    assert f'src="/sandbox/media/{media_id}"' in shown["html"]
    assert shown["msgtype"] == "image"
    assert http().get(sb.base_url + f"/sandbox/media/{media_id}", timeout=10).content == PNG
    gif = http().post(
        sb.base_url + acts + "image", data={"userid": "alice"}, files={"image": ("a.gif", b"GIF89a..")}, timeout=10
    )
    assert gif.status_code == 400
    assert len(receiver.received) == 1


def test_group_chat_is_its_own_conversation(sb: SandboxClient, api: WeComApi) -> None:
    chatid = api.post("appchat/create", {"name": "处置组", "owner": "alice", "userlist": ["alice", "bob"]})["chatid"]
    api.post("appchat/send", {"chatid": chatid, "msgtype": "markdown", "markdown": {"content": "**群通知**"}})
    api.send("alice", "text", {"content": "单聊"})
    html = page(sb, "alice")
    assert [(c["data-chat"], c["data-name"]) for c in elements(html, "conv-item")] == [("", "瞭望"), (chatid, "处置组")]
    assert [m["data-chat"] for m in elements(html, "msg")] == [chatid, ""]
    answer = feed(sb, "alice", "carol")
    assert answer["phones"]["alice"]["convs"] == [{"chat": "", "name": "瞭望"}, {"chat": chatid, "name": "处置组"}]
    assert answer["phones"]["alice"]["messages"][0]["chat"] == chatid
    carol = answer["phones"]["carol"]
    assert carol["messages"] == []
    assert carol["convs"] == [{"chat": "", "name": "瞭望"}]


def test_feed_waits_for_news_and_notices_a_reset(sb: SandboxClient, api: WeComApi) -> None:
    api.send("alice", "text", {"content": "一"})
    cursor = feed(sb, "alice")["cursor"]
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(feed, sb, "alice", since=cursor, timeout=10)
        api.send("bob", "text", {"content": "不是给 alice 的"})
        api.send("alice", "text", {"content": "二"})
        news = waiting.result(timeout=15)
    assert news["cursor"] > cursor
    assert "二" in messages_html(feed(sb, "alice", since=cursor), "alice")
    sb.reset()
    sb.people([{"userid": "alice", "name": "Alice"}])
    after = feed(sb, "alice", since=news["cursor"], timeout=5)
    assert after["reset"] is True
    assert after["phones"]["alice"]["messages"] == []
    bad = http().get(sb.base_url + "/phone/feed", params={"u": "alice", "since": "x"}, timeout=10)
    assert bad.status_code == 400
    assert http().get(sb.base_url + "/phone/feed", timeout=10).status_code == 400


@pytest.mark.parametrize("raw", ["ftp://x.example/", "javascript:alert(1)", "/relative", "http://[bad", None])
def test_phone_opens_only_http_urls(raw: str | None) -> None:
    assert PhoneView("alice", "http://127.0.0.1:8001/", "瞭望").url(raw) == ""
