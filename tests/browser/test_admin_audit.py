"""System administration and the audit trail in a real browser, in Chinese (trial findings 102
and 103): the admin lands on the user list, creates a warehouse clerk for FORM01 with an
initial password, and that clerk signs in and lands on their receiving page; the auditor
lands on the audit trail, finds the creation by kind, action and user, and opens the new
user's history with the values as created and who created them."""

from __future__ import annotations

import uuid
from typing import Any

# Browser tests share one database per run: a user name of this run's own.
NEW_PASSWORD = "Heyi-new-clerk-2026"


def test_the_admin_creates_a_user_who_signs_in_and_the_auditor_finds_it(
    signed_in: Any, browser: Any, live_server: str, shot: Any
) -> None:
    username = f"clerk.new{uuid.uuid4().hex[:6]}"
    admin = signed_in("admin")
    assert admin.url.endswith("/admin/users")
    assert admin.get_by_test_id("who").inner_text().split()[-1] == "系统管理员"
    shot(admin, "admin-landing")
    admin.get_by_test_id("new-user").click()
    admin.wait_for_selector("[data-testid=new-user-form]")
    admin.fill("#f-username", username)
    admin.fill("#f-display_name", "新仓管 王五")
    admin.fill("#f-password", "short")
    admin.select_option("#f-role", "clerk")
    admin.select_option("#f-company_ids", ["FORM01"])
    admin.select_option("#f-warehouse_ids", ["FORM01-AMB"])
    # the browser's own check (minlength) would stop a short password: the server's is tested
    admin.eval_on_selector("#f-password", "el => el.removeAttribute('minlength')")
    admin.get_by_test_id("create-user").click()
    admin.wait_for_selector("[data-testid=error-password]")
    assert admin.get_by_test_id("error-password").inner_text() == "长度须为 10 至 200 个字符"
    assert admin.input_value("#f-username") == username and admin.input_value("#f-password") == ""
    shot(admin, "short-password-refused")
    admin.fill("#f-password", NEW_PASSWORD)
    admin.get_by_test_id("create-user").click()
    admin.wait_for_selector("[data-testid=done]")
    assert "用户已创建" in admin.get_by_test_id("done").inner_text()
    assert "FORM01" in admin.content() and "仓库管理员" in admin.content()
    shot(admin, "user-created")

    clerk_context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_server)
    try:
        clerk = clerk_context.new_page()
        clerk.goto("/sign-in")
        clerk.fill("#username", username)
        clerk.fill("#password", NEW_PASSWORD)
        clerk.locator("form.sign-in-card button[type=submit]").click()
        clerk.wait_for_selector("[data-testid=who]")
        assert "新仓管 王五" in clerk.get_by_test_id("who").inner_text()
        assert clerk.url.endswith("/inventory/receiving")
        shot(clerk, "new-clerk-signed-in")
    finally:
        clerk_context.close()

    auditor = signed_in("auditor")
    assert auditor.url.endswith("/audit/")
    assert auditor.get_by_test_id("who").inner_text().split()[-1] == "审计员"
    shot(auditor, "auditor-landing")
    auditor.select_option("#f-entity", "user")
    auditor.select_option("#f-action", "create")
    auditor.fill("#f-user", "admin")
    auditor.get_by_role("button", name="查询").click()
    auditor.wait_for_selector("[data-testid=trail]")
    row = auditor.locator("tr", has_text=username).first
    assert "创建" in row.inner_text() or "已创建" in row.inner_text()
    shot(auditor, "trail-filtered")
    row.get_by_role("link").first.click()
    auditor.wait_for_selector("h1:has-text('的变更历史')")
    assert username in auditor.locator("h1").inner_text()
    # newest first: the new clerk's sign-in, then the creation by the admin
    assert "登录" in auditor.locator("section.card").first.inner_text()
    entry = auditor.locator("section.card").last
    text = entry.inner_text()
    assert "admin" in text and "仓库管理员" in text and "FORM01" in text and "（不显示）" in text
    assert NEW_PASSWORD not in auditor.content()
    shot(auditor, "user-history")
