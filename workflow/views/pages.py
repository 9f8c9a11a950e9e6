"""Links to Liaowang's H5 pages, wrapped in WeCom's OAuth2 authorize URL so WeCom tells us who opened them."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from core.config import Config


def page_url(config: Config, path: str) -> str:
    """Return the public URL of an H5 page path such as "/h5/upload/YQ-20261126-001"."""
    return config.public_url + path


def oauth_url(config: Config, path: str, state: str = "lw") -> str:
    """Return the OAuth2 authorize URL that lands on path with ?code=…&state=… (snsapi_base, this agent)."""
    query = urlencode(
        {
            "appid": config.wecom.corp_id,
            "redirect_uri": page_url(config, path),
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
            "agentid": config.wecom.agent_id,
        },
        quote_via=quote,
    )
    return f"{config.wecom.oauth_base}/connect/oauth2/authorize?{query}#wechat_redirect"


def upload_url(config: Config, code: str) -> str:
    """Return the OAuth link to the written-report upload page of item code."""
    return oauth_url(config, f"/h5/upload/{code}")


def viewer_url(config: Config, code: str) -> str:
    """Return the OAuth link to the report viewer of item code."""
    return oauth_url(config, f"/h5/item/{code}")


def card_url(task_id: str) -> str:
    """Return the OAuth link to the 查看详情 page of the card task_id (this process's configuration)."""
    from core.runtime import runtime  # the Runtime is installed by the app, the worker and the CLI at start

    return oauth_url(runtime().config, f"/h5/card/{task_id}")
