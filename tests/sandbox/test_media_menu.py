"""media/upload and media/get (Range, limits, expiry) and menu/create|get."""

from __future__ import annotations

from typing import Any

from sandbox.client import SandboxClient

from .conftest import AGENT_ID, WeComApi

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(api: WeComApi, kind: str, data: bytes, name: str = "f.bin") -> Any:
    """Upload bytes as multipart field media."""
    resp = api.http.post(
        api.base + "media/upload",
        params={"access_token": api.token(), "type": kind},
        files={"media": (name, data)},
        timeout=10,
    )
    return resp.json()


def test_upload_get_and_range(api: WeComApi) -> None:
    data = bytes(range(256)) * 4
    answer = upload(api, "file", data, "舆情报告.pdf")
    assert answer["errcode"] == 0
    assert answer["type"] == "file"
    assert answer["created_at"].isdigit()
    params = {"access_token": api.token(), "media_id": answer["media_id"]}
    full = api.http.get(api.base + "media/get", params=params, timeout=10)
    assert full.status_code == 200
    assert full.content == data
    assert full.headers["Content-Type"] == "application/pdf"
    assert "attachment" in full.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E8%88%86" in full.headers["Content-Disposition"]
    part = api.http.get(api.base + "media/get", params=params, headers={"Range": "bytes=10-19"}, timeout=10)
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    bad = api.http.get(api.base + "media/get", params=params, headers={"Range": "bytes=5000-"}, timeout=10)
    assert bad.status_code == 416


def test_upload_refusals(api: WeComApi) -> None:
    assert upload(api, "file", b"12345")["errcode"] == 40006
    assert upload(api, "file", b"x" * (20 * 1024 * 1024 + 1))["errcode"] == 40006
    assert upload(api, "voice", b"#!AMR" + b"x" * (2 * 1024 * 1024))["errcode"] == 40010
    assert upload(api, "image", b"GIF89a-not-accepted")["errcode"] == 40004, "不合法的媒体文件类型"
    assert upload(api, "image", PNG, "p.png")["errcode"] == 0
    assert upload(api, "pdf", b"%PDF-1.4 whatever")["errcode"] == 40005, "不合法的type参数"
    resp = api.http.post(api.base + "media/upload", params={"access_token": api.token(), "type": "file"}, timeout=10)
    assert resp.json()["errcode"] == 44001


def test_media_errors_are_json_with_http_200_and_expire(api: WeComApi, sb: SandboxClient) -> None:
    media_id = upload(api, "image", PNG, "p.png")["media_id"]
    unknown = api.http.get(api.base + "media/get", params={"access_token": api.token(), "media_id": "nope"}, timeout=10)
    assert unknown.status_code == 200
    assert unknown.json()["errcode"] == 40007
    assert api.send("alice", "image", {"media_id": media_id})["errcode"] == 0
    sb.advance(3 * 86400 + 1)
    api.forget_token()
    expired = api.http.get(
        api.base + "media/get", params={"access_token": api.token(), "media_id": media_id}, timeout=10
    )
    assert expired.json()["errcode"] == 40007
    assert api.send("alice", "image", {"media_id": media_id})["errcode"] == 40007


def test_menu_create_and_get(api: WeComApi) -> None:
    assert api.get("menu/get", agentid=AGENT_ID)["errcode"] == 46003
    menu = {
        "button": [
            {"type": "click", "name": "待办", "key": "todo"},
            {
                "name": "更多",
                "sub_button": [
                    {"type": "view", "name": "网页", "url": "https://e.com"},
                    {"type": "click", "name": "帮助", "key": "help"},
                ],
            },
        ]
    }
    assert api.post("menu/create", menu, agentid=AGENT_ID)["errcode"] == 0
    got = api.get("menu/get", agentid=AGENT_ID)
    assert got["errcode"] == 0
    assert got["button"] == menu["button"]
    four = {"button": [{"type": "click", "name": f"b{i}", "key": f"k{i}"} for i in range(4)]}
    assert api.post("menu/create", four, agentid=AGENT_ID)["errcode"] == 40016
    keyless = {"button": [{"type": "click", "name": "b"}]}
    assert api.post("menu/create", keyless, agentid=AGENT_ID)["errcode"] == 40019
    six = {
        "button": [{"name": "m", "sub_button": [{"type": "click", "name": f"s{i}", "key": f"k{i}"} for i in range(6)]}]
    }
    assert api.post("menu/create", six, agentid=AGENT_ID)["errcode"] == 40023
    assert api.post("menu/create", menu, agentid=1)["errcode"] == 40056
