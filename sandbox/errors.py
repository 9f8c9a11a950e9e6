"""WeCom error codes used by the emulator and the exception that carries them."""

from __future__ import annotations

OK = 0
SYSTEM_BUSY = -1
INVALID_SECRET = 40001
INVALID_CORPID = 40013
INVALID_TOKEN = 40014
INVALID_MEDIA_TYPE = 40005  # 不合法的type参数 (media/upload's type)
INVALID_FILE_TYPE = 40004  # 不合法的媒体文件类型 (the file's format)
INVALID_FILE_SIZE = 40006
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_IMAGE_SIZE = 40009
INVALID_VOICE_SIZE = 40010
INVALID_VIDEO_SIZE = 40011
INVALID_CODE = 40029
INVALID_AGENTID = 40056
INVALID_PARAMETER = 40058
INVALID_RESPONSE_CODE = 40148
MISSING_TOKEN = 41001
EMPTY_MEDIA = 44001
EMPTY_CONTENT = 44004
TOKEN_EXPIRED = 42001
CONTENT_TOO_LONG = 45002
FREQ_LIMIT = 45009
MENU_NOT_EXIST = 46003
DATA_FORMAT_ERROR = 47001
API_FORBIDDEN = 48001
USER_NOT_FOUND = 60111
ALL_RECIPIENTS_INVALID = 81013
INVALID_TASK_ID = 42014  # a template card's task_id is empty, too long, malformed or already used
CHATID_INVALID = 86001
CHAT_NOT_FOUND = 86003
CHAT_MEMBER_COUNT = 86006  # appchat/create: fewer than 2 or more than 2000 members
CHATID_EXISTS = 86215
INVALID_CHAT_MEMBER = 86216

DEFAULT_MESSAGES: dict[int, str] = {
    SYSTEM_BUSY: "system busy",
    INVALID_TOKEN: "invalid access_token",
    TOKEN_EXPIRED: "access_token expired",
    FREQ_LIMIT: "api freq out of limit",
    45033: "api concurrent out of limit",
    60020: "not allow to access from your ip",
}


class ApiError(Exception):
    """A WeCom API refusal: answered as HTTP 200 with {"errcode", "errmsg"}."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    def as_json(self) -> dict[str, object]:
        """Return WeCom's JSON error body."""
        return {"errcode": self.errcode, "errmsg": self.errmsg}


def default_errmsg(errcode: int) -> str:
    """Return a WeCom-like errmsg for an injected errcode."""
    return DEFAULT_MESSAGES.get(errcode, f"injected error {errcode}")


class ControlError(Exception):
    """A refused /sandbox control request, answered with an HTTP error status and {"error": ...}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


NO_PRIVILEGE = 60011  # no privilege to access/modify contact/party/agent (e.g. appchat/create without root visibility)
