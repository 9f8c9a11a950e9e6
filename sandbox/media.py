"""Media upload/download (with Range) and the app menu, under /cgi-bin."""

from __future__ import annotations

import json
import mimetypes
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request

from sandbox import errors
from sandbox.errors import ApiError
from sandbox.state import Media, World
from sandbox.validate import validate_menu

SIZE_LIMITS = {
    "image": (10 * 1024 * 1024, errors.INVALID_IMAGE_SIZE),
    "voice": (2 * 1024 * 1024, errors.INVALID_VOICE_SIZE),
    "video": (10 * 1024 * 1024, errors.INVALID_VIDEO_SIZE),
    "file": (20 * 1024 * 1024, errors.INVALID_FILE_SIZE),
}
MIN_BYTES = 6


def format_ok(kind: str, data: bytes) -> bool:
    """Tell whether data has a format WeCom accepts for the media type (JPG/PNG, AMR, MP4, any file)."""
    if kind == "image":
        return data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")
    if kind == "voice":
        return data.startswith(b"#!AMR")
    if kind == "video":
        return data[4:8] == b"ftyp"
    return True


def check_upload(kind: str | None, data: bytes) -> str:
    """Return the media type if the upload is acceptable, else refuse like WeCom."""
    if kind not in SIZE_LIMITS:
        raise ApiError(errors.INVALID_MEDIA_TYPE, f"invalid media type: {kind!r}")
    if not data:
        raise ApiError(errors.EMPTY_MEDIA, "empty media data")
    limit, code = SIZE_LIMITS[kind]
    if len(data) < MIN_BYTES or len(data) > limit:
        raise ApiError(code, f"invalid {kind} size: {len(data)} bytes (must be 6..{limit})")
    if not format_ok(kind, data):
        raise ApiError(errors.INVALID_FILE_TYPE, f"invalid file type for {kind}")
    return kind


def disposition(filename: str) -> str:
    """Return an attachment Content-Disposition that survives non-ASCII names."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def media_response(item: Media) -> Response:
    """Serve stored media bytes, honouring a single-range Range header with 206."""
    data = item.data
    headers = {"Content-Disposition": disposition(item.filename), "Accept-Ranges": "bytes"}
    rng = request.range
    if rng is not None and len(rng.ranges) == 1 and rng.units == "bytes":
        span = rng.range_for_length(len(data))
        if span is None:
            headers["Content-Range"] = f"bytes */{len(data)}"
            return Response(b"", status=416, headers=headers)
        start, stop = span
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
        return Response(data[start:stop], status=206, headers=headers, content_type=item.content_type)
    return Response(data, status=200, headers=headers, content_type=item.content_type)


def check_agent_arg(world: World) -> None:
    """Refuse with 40056 unless ?agentid= is the app's."""
    if request.args.get("agentid") != str(world.settings.agent_id):
        raise ApiError(errors.INVALID_AGENTID, "invalid agentid")


def register_media_routes(bp: Blueprint, world: World) -> None:
    """Add media/upload, media/get and menu/create|get|delete to the /cgi-bin blueprint."""

    @bp.post("/media/upload")
    def media_upload() -> Response:
        upload = request.files.get("media")
        data = upload.read() if upload is not None else b""
        kind = check_upload(request.args.get("type"), data)
        filename = (upload.filename if upload is not None else None) or f"media.{kind}"
        content_type = (upload.mimetype if upload is not None else "") or ""
        if not content_type or content_type == "application/octet-stream":
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        item = world.put_media(kind, filename, content_type, data)
        return jsonify(
            {
                "errcode": 0,
                "errmsg": "ok",
                "type": kind,
                "media_id": item.media_id,
                "created_at": str(int(item.created_at)),
            }
        )

    @bp.get("/media/get")
    def media_get() -> Response:
        return media_response(world.get_media(request.args.get("media_id") or ""))

    @bp.post("/menu/create")
    def menu_create() -> Response:
        check_agent_arg(world)
        try:
            menu: Any = json.loads(request.get_data() or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(errors.DATA_FORMAT_ERROR, "data format error") from exc
        validate_menu(menu)
        with world.lock:
            world.menu = {"button": menu["button"]}
        return jsonify({"errcode": 0, "errmsg": "ok"})

    @bp.get("/menu/get")
    def menu_get() -> Response:
        check_agent_arg(world)
        with world.lock:
            if world.menu is None:
                raise ApiError(errors.MENU_NOT_EXIST, "menu no exist")
            return jsonify({"errcode": 0, "errmsg": "ok", **json.loads(json.dumps(world.menu))})

    @bp.get("/menu/delete")
    def menu_delete() -> Response:
        check_agent_arg(world)
        with world.lock:
            world.menu = None
        return jsonify({"errcode": 0, "errmsg": "ok"})
