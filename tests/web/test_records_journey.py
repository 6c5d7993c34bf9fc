"""A subject access request: logged with its deadline, and the export downloaded."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Page, expect

from tests.web.conftest import axe_violations, portal_today, sign_in, wait_for_my_work

pytestmark = pytest.mark.browser


def test_log_a_subject_access_request_and_download_the_export(page: Page) -> None:
    sign_in(page, "iso@eastbrook.demo")
    wait_for_my_work(page)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Requests and retention", exact=True).click()
    expect(page.get_by_role("heading", name="Requests and retention", level=1)).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_role("button", name="Log request").click()
    expect(page.get_by_text("Choose whose request this is.")).to_be_visible()
    page.get_by_label("Whose request").select_option(label="Jamie Carter (Eastbrook City Council ASB Team)")
    received = portal_today() - timedelta(days=35)
    page.get_by_label("Received on").fill(received.isoformat())
    page.get_by_role("button", name="Log request").click()
    row = page.get_by_role("row").filter(has_text="Jamie Carter").filter(has_text=f"{received:%-d %b %Y}")
    expect(row.first).to_contain_text(f"{received + relativedelta(months=1):%-d %b %Y}")  # a calendar month on

    with page.expect_download() as download_info:
        row.first.get_by_role("button", name="Download export for Jamie Carter").click()
    path = download_info.value.path()
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        assert any(n.endswith(".pdf") for n in names)
        data = json.loads(archive.read(next(n for n in names if n.endswith(".json"))))
        assert archive.read(next(n for n in names if n.endswith(".pdf"))).startswith(b"%PDF")
    text = json.dumps(data)
    assert "Jamie" in text and "Eastshire Police" in text  # what is held, and who it was shared with


def test_extend_a_request_and_change_a_retention_period(page: Page) -> None:
    today = portal_today()
    sign_in(page, "iso@eastbrook.demo")
    wait_for_my_work(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Requests and retention").click()
    page.get_by_label("Whose request").select_option(label="Terry Vance (Eastbrook City Council ASB Team)")
    page.get_by_label("Received on").fill(today.isoformat())
    page.get_by_role("button", name="Log request").click()
    row = page.get_by_role("row").filter(has_text="Terry Vance").first
    expect(row).to_contain_text(f"{today + relativedelta(months=1):%-d %b %Y}")

    row.get_by_role("button", name=re.compile("Extend request")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Extra months").fill("2")
    dialog.get_by_role("button", name="Extend").click()
    expect(dialog.get_by_role("alert")).to_be_visible()  # a reason is required
    dialog.get_by_label("Reason").fill("Records held across three teams; the request is complex.")
    dialog.get_by_role("button", name="Extend").click()
    expect(row).to_contain_text(f"{today + relativedelta(months=3):%-d %b %Y}")

    page.get_by_label("Health", exact=True).fill("8")
    page.get_by_role("button", name="Save retention periods").click()
    expect(page.get_by_role("listitem").filter(has_text="Retention period saved.")).to_have_count(1)
    page.reload()
    expect(page.get_by_label("Health", exact=True)).to_have_value("8")
