"""The UI's security through the real web process: headers, sign-in, cookies, CSRF."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import Maestro, check_page
from tests.web.http import Answer, request


@pytest.fixture
def csrf(maestro: Maestro) -> str:
    """A browser's CSRF cookie, as the first page it opens sets it."""
    return request(maestro.web_url, "/signin").cookie_value("maestro_csrf")


def sign_in(maestro: Maestro, csrf: str, token: str, **extra: str) -> Answer:
    return request(
        maestro.web_url,
        "/signin",
        method="POST",
        form={"csrf": csrf, "token": token, **extra},
        cookies={"maestro_csrf": csrf},
    )


@pytest.mark.parametrize("path", ["/signin", "/library", "/static/app.css", "/nowhere"])
def test_every_answer_carries_the_security_headers(maestro: Maestro, path: str) -> None:
    answer = request(maestro.web_url, path)
    policy = answer.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in answer.headers  # plain HTTP here


def test_pages_use_only_local_assets_and_no_inline_script(maestro: Maestro) -> None:
    page = request(maestro.web_url, "/signin").body
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources
    assert all(s.startswith(("/", "#", "")) and "//" not in s for s in sources), sources
    # Every <script> loads a file; none carries code.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    for asset in ("/static/vendor/htmx.min.js", "/static/app.css", "/static/favicon.svg"):
        assert request(maestro.web_url, asset).status == 200


def test_a_page_without_a_session_goes_to_sign_in_and_back(maestro: Maestro) -> None:
    answer = request(maestro.web_url, "/library?q=churn&type=model")
    assert answer.status == 303
    assert answer.headers["location"] == "/signin?next=%2Flibrary%3Fq%3Dchurn%26type%3Dmodel"
    # An htmx request is told to go there as a whole page.
    partial = request(maestro.web_url, "/library?q=x", headers={"hx-request": "true"})
    assert partial.headers["hx-redirect"].startswith("/signin?next=")


def test_sign_in_keeps_the_token_in_a_strict_httponly_cookie(maestro: Maestro, csrf: str) -> None:
    answer = sign_in(maestro, csrf, maestro.token, next="/library?q=churn")
    assert answer.status == 303
    assert answer.headers["location"] == "/library?q=churn"
    cookie = answer.cookies()["maestro_session"]
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path"} <= attributes
    assert "SameSite=Strict" in cookie
    assert "secure" not in attributes  # plain HTTP; Secure under TLS (test_tls)
    session = answer.cookie_value("maestro_session")
    library = request(maestro.web_url, "/library", cookies={"maestro_session": session})
    assert library.status == 200
    assert library.headers["cache-control"] == "no-store"


def test_sign_in_refuses_bad_tokens_forgeries_and_other_sites(maestro: Maestro, csrf: str) -> None:
    wrong = sign_in(maestro, csrf, "mae_" + "0" * 40)
    assert wrong.status == 401
    assert "does not accept that token" in wrong.body
    assert "maestro_session" not in wrong.cookies()
    empty = sign_in(maestro, csrf, "")
    assert empty.status == 401
    # No CSRF token, a wrong one, or a post from another origin: refused.
    for form, cookies, headers in (
        ({"token": maestro.token}, {"maestro_csrf": csrf}, {}),
        ({"token": maestro.token, "csrf": "forged"}, {"maestro_csrf": csrf}, {}),
        ({"token": maestro.token, "csrf": csrf}, {}, {}),
        (
            {"token": maestro.token, "csrf": csrf},
            {"maestro_csrf": csrf},
            {"origin": "https://evil.example"},
        ),
        (
            {"token": maestro.token, "csrf": csrf},
            {"maestro_csrf": csrf},
            {"origin": "null"},
        ),
    ):
        answer = request(
            maestro.web_url, "/signin", method="POST", form=form, cookies=cookies, headers=headers
        )
        assert answer.status == 403, (form, headers)
        assert "maestro_session" not in answer.cookies()


def test_behind_a_tls_proxy_the_browser_origin_is_https(maestro: Maestro, csrf: str) -> None:
    host = maestro.web_url.removeprefix("http://")
    answer = sign_in(maestro, csrf, maestro.token, next="/library")
    assert answer.status == 303
    proxied = request(
        maestro.web_url,
        "/signin",
        method="POST",
        form={"csrf": csrf, "token": maestro.token},
        cookies={"maestro_csrf": csrf},
        headers={"origin": f"https://{host}"},
    )
    assert proxied.status == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
def test_sign_in_never_sends_the_browser_to_another_site(
    maestro: Maestro, csrf: str, target: str
) -> None:
    answer = sign_in(maestro, csrf, maestro.token, next=target)
    assert answer.headers["location"] == "/library"


def test_sign_out_clears_the_cookie(maestro: Maestro, csrf: str) -> None:
    session = sign_in(maestro, csrf, maestro.token).cookie_value("maestro_session")
    cookies = {"maestro_csrf": csrf, "maestro_session": session}
    forged = request(maestro.web_url, "/signout", method="POST", form={}, cookies=cookies)
    assert forged.status == 403
    out = request(maestro.web_url, "/signout", method="POST", form={"csrf": csrf}, cookies=cookies)
    assert out.status == 303
    cleared = out.cookies()["maestro_session"]
    assert cleared.startswith("maestro_session=;")
    assert "Max-Age=0" in cleared


def test_a_rejected_session_is_cleared_and_sent_to_sign_in(maestro: Maestro) -> None:
    answer = request(maestro.web_url, "/library", cookies={"maestro_session": "mae_revoked" * 4})
    assert answer.status == 303
    assert answer.headers["location"].endswith("&expired=1")
    assert "Max-Age=0" in answer.cookies()["maestro_session"]


def test_a_link_from_another_site_reloads_to_send_the_strict_cookie(maestro: Maestro) -> None:
    # SameSite=Strict keeps the cookie off a navigation from another site;
    # the page reloads itself from here (a same-site request) instead of
    # asking a signed-in person to sign in again.
    answer = request(maestro.web_url, "/library", headers={"sec-fetch-site": "cross-site"})
    assert answer.status == 200
    assert '<meta http-equiv="refresh" content="0">' in answer.body


def test_sign_in_and_out_in_the_browser_with_the_keyboard(page: Page, maestro: Maestro) -> None:
    page.goto("/library?q=anything")
    page.wait_for_url("**/signin?next=**")
    check_page(page, f"signin-{maestro.store}")
    # The token field has the focus: type, Enter.
    page.keyboard.type("mae_not_a_real_token_at_all")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("does not accept that token")
    expect(page.get_by_label("Access token")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Access token").fill(maestro.token)
    page.keyboard.press("Enter")
    page.wait_for_url("**/library?q=anything")
    # The session cookie is out of the page's reach.
    assert "maestro_session" not in page.evaluate("document.cookie")
    # The first Tab reaches the skip link, which takes the keyboard to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    page.goto("/library")
    page.wait_for_url("**/signin?next=**")
