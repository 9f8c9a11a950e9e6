"""OAuth2 in-app login round trip and app chats."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import requests

from sandbox.client import SandboxClient

from .conftest import AGENT_ID, CORP_ID, WeComApi


def code_from(location: str) -> tuple[str, str]:
    """Return (code, state) from an OAuth redirect URL."""
    query = parse_qs(urlsplit(location).query, keep_blank_values=True)
    return query["code"][0], query["state"][0]


def test_oauth_round_trip_with_single_use_codes(sb: SandboxClient, api: WeComApi) -> None:
    location = sb.authorize("alice", "https://app.example/upload?x=1", state="s1")
    assert location.startswith("https://app.example/upload?x=1&code=")
    code, state = code_from(location)
    assert state == "s1"
    info = api.get("auth/getuserinfo", code=code)
    assert info["errcode"] == 0
    assert info["userid"] == "alice"
    assert info["UserId"] == "alice"
    assert api.get("auth/getuserinfo", code=code)["errcode"] == 40029
    old = api.get("user/getuserinfo", code=code_from(sb.authorize("bob", "https://app.example/"))[0])
    assert old["UserId"] == "bob"
    outsider = api.get("auth/getuserinfo", code=code_from(sb.authorize("mallory", "https://app.example/"))[0])
    assert outsider["errcode"] == 0
    assert "userid" not in outsider
    assert outsider["openid"]
    stale, _ = code_from(sb.authorize("alice", "https://app.example/"))
    sb.advance(301)
    api.forget_token()
    assert api.get("auth/getuserinfo", code=stale)["errcode"] == 40029


def test_oauth_browser_cookie_and_wrong_appid(sb: SandboxClient) -> None:
    browser = requests.Session()
    browser.trust_env = False
    params = {
        "appid": CORP_ID,
        "redirect_uri": "https://app.example/cb",
        "response_type": "code",
        "scope": "snsapi_base",
        "state": "z",
        "agentid": AGENT_ID,
    }
    url = sb.base_url + "/connect/oauth2/authorize"
    chooser = browser.get(url, params=params, allow_redirects=False, timeout=5)
    assert chooser.status_code == 200, "a desktop browser with nobody logged in is asked who they are"
    assert "以谁的身份打开" in chooser.text
    pick = re.search(r'href="([^"]*/sandbox/login\?[^"]*userid=carol[^"]*)"', chooser.text)
    assert pick is not None, "every member of the directory can be chosen"
    back = browser.get(sb.base_url + html.unescape(pick.group(1)), allow_redirects=False, timeout=5)
    assert back.status_code == 302
    assert back.headers["Location"].startswith("/connect/oauth2/authorize?"), "back to the same authorize step"
    resp = browser.get(sb.base_url + back.headers["Location"], allow_redirects=False, timeout=5)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("https://app.example/cb?")
    assert "code=" in resp.headers["Location"]
    assert "state=z" in resp.headers["Location"]
    elsewhere = browser.get(
        sb.base_url + "/sandbox/login",
        params={"userid": "carol", "next": "https://evil.example/"},
        allow_redirects=False,
        timeout=5,
    )
    assert elsewhere.status_code == 200, "login never redirects off the authorize step"
    wrong = browser.get(url, params={**params, "appid": "wwother"}, allow_redirects=False, timeout=5)
    assert wrong.status_code == 400


def test_appchat_create_and_send(sb: SandboxClient, api: WeComApi) -> None:
    created = api.post("appchat/create", {"name": "处置组", "owner": "alice", "userlist": ["alice", "bob"]})
    assert created["errcode"] == 0
    assert created["chatid"]
    chatid = created["chatid"]
    sent = api.post("appchat/send", {"chatid": chatid, "msgtype": "text", "text": {"content": "群消息"}})
    assert sent["errcode"] == 0
    for userid in ("alice", "bob"):
        record = sb.inbox(userid)[0]
        assert record["chatid"] == chatid
        assert record["body"]["text"]["content"] == "群消息"
    assert sb.inbox("carol") == []
    assert api.post("appchat/create", {"userlist": ["alice"]})["errcode"] == 86006  # member list size
    assert api.post("appchat/create", {"userlist": ["alice", "mallory"]})["errcode"] == 86216  # invalid member
    assert api.post("appchat/create", {"userlist": ["alice", "bob"], "chatid": "bad-id!"})["errcode"] == 86001
    assert api.post("appchat/create", {"userlist": ["alice", "bob"], "chatid": chatid})["errcode"] == 86215
    assert api.post("appchat/send", {"chatid": "nope", "msgtype": "text", "text": {"content": "x"}})["errcode"] == 86003
    card = {"chatid": chatid, "msgtype": "template_card", "template_card": {}}
    assert api.post("appchat/send", card)["errcode"] == 40008
    assert api.get("appchat/get", chatid=chatid)["chat_info"]["userlist"] == ["alice", "bob"]
