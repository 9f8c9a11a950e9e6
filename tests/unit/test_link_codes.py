"""The `codes` filter of H5 pages: every 编号 in a line links to its case file, everything else is escaped text."""

from __future__ import annotations

from flask import Flask

from bot.h5 import blueprint
from bot.h5.web import link_codes


def test_codes_become_links_and_hostile_text_stays_text() -> None:
    app = Flask(__name__)
    app.register_blueprint(blueprint())
    with app.test_request_context():
        html = str(link_codes('=HYPERLINK("x") <script>alert(1)</script> 并入 YQ-20261206-001《../x》\x07'))
    assert '<a href="/h5/item/YQ-20261206-001">YQ-20261206-001</a>' in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert html.startswith("=HYPERLINK(&#34;x&#34;)"), "a formula-looking text is shown as text, escaped"
    assert str(link_codes("没有编号的一句话")) == "没有编号的一句话"
