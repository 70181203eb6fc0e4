"""Admins manage staff accounts: forms that name each field to fix, nothing half-saved, every change in the audit log."""
from __future__ import annotations

from bot.console import audit
from bot.console.models import StaffAccount
from bot.database.sessions import engine_for, session_scope
from tests.console.staff_client import PASSWORD, csrf_token, sign_in, signed_in_client

NEW = {"email": "Marta@Example.org", "name": "Marta Puig", "role": "editor", "password": "a long enough password", "password_again": "a long enough password"}


def _accounts(url: str) -> list[tuple[str, str, bool]]:
    with session_scope(engine_for(url)) as session:
        return sorted((account.email, account.role, account.active) for account in session.query(StaffAccount))


def _audit(url: str) -> list[audit.Entry]:
    with session_scope(engine_for(url)) as session:
        return audit.recent(session, 50)


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/staff"), **data})


def test_an_admin_adds_an_editor_who_can_then_sign_in(app, people, console_db):
    admin = signed_in_client(app, people["admin"])
    created = _post(admin, "/staff", NEW)
    assert created.status_code == 303 and created.headers["location"] == "/staff"
    listing = admin.get("/staff").text
    assert "Account created for Marta Puig (editor)." in listing and "marta@example.org" in listing
    assert ("marta@example.org", "editor", True) in _accounts(console_db)
    entry = _audit(console_db)[0]
    assert (entry.actor, entry.action, entry.detail) == ("admin@example.org", "staff.create", {"email": "marta@example.org", "name": "Marta Puig", "role": "editor"})
    assert sign_in(signed_in_client(app, people["editor"]), "marta@example.org", NEW["password"]).status_code == 303


def test_a_form_with_mistakes_names_each_field_and_its_fix_keeps_what_was_typed_and_saves_nothing(app, people, console_db):
    admin = signed_in_client(app, people["admin"])
    before = _accounts(console_db)
    response = _post(admin, "/staff", {"email": "marta at example", "name": "  ", "role": "editor", "password": "short", "password_again": "shorter"})
    assert response.status_code == 400
    page = response.text
    assert "The account was not created: fix these" in page
    for fix in ("E-mail address: write a whole e-mail address, like name@example.org",
                "Name: write the person&#39;s name, as colleagues know them",
                "Password: use at least 12 characters",
                "Password again: type the same password in both password fields"):
        assert fix in page
    assert 'value="marta at example"' in page and 'aria-invalid="true"' in page
    assert "short" not in page.replace("shorten", "")  # the passwords typed are never shown again
    assert _accounts(console_db) == before


def test_the_password_may_not_be_the_email_and_an_address_has_one_account(app, people, console_db):
    admin = signed_in_client(app, people["admin"])
    same = _post(admin, "/staff", {**NEW, "password": "marta@example.org", "password_again": "marta@example.org"})
    assert same.status_code == 400 and "Password: use something other than the e-mail address" in same.text
    taken = _post(admin, "/staff", {**NEW, "email": "EDITOR@example.org"})
    assert taken.status_code == 400 and "an account with this e-mail address exists already" in taken.text
    assert len(_accounts(console_db)) == 3


def test_what_staff_type_is_shown_as_text_never_run(app, people, console_db):
    admin = signed_in_client(app, people["admin"])
    name = '<script>alert("x")</script>'
    _post(admin, "/staff", {**NEW, "name": name})
    for page in (admin.get("/staff").text, admin.get("/audit").text):
        assert name not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    wrong = _post(admin, "/staff", {**NEW, "email": "<b>bold@x", "name": name})
    assert "<b>bold" not in wrong.text and 'value="&lt;b&gt;bold@x"' in wrong.text


def test_a_changed_role_counts_at_the_next_request_and_is_recorded(app, people, console_db):
    editor = signed_in_client(app, people["editor"])
    assert editor.get("/audit").status_code == 403
    admin = signed_in_client(app, people["admin"])
    changed = _post(admin, f"/staff/{people['editor'].id}/role", {"role": "reviewer"})
    assert changed.status_code == 303 and "Editor is now a reviewer." in admin.get("/staff").text
    assert editor.get("/audit").status_code == 200
    entry = _audit(console_db)[0]
    assert (entry.action, entry.target, entry.detail) == ("staff.role", f"staff {people['editor'].id}", {"email": "editor@example.org", "from": "editor", "to": "reviewer"})


def test_a_deactivated_account_is_signed_out_at_once_and_cannot_sign_in(app, people, console_db):
    reviewer = signed_in_client(app, people["reviewer"])
    admin = signed_in_client(app, people["admin"])
    assert _post(admin, f"/staff/{people['reviewer'].id}/deactivate", {}).status_code == 303
    assert "Reviewer&#39;s account is deactivated" in admin.get("/staff").text
    assert reviewer.get("/").status_code == 303
    assert "The e-mail address or the password is not right." in sign_in(reviewer, people["reviewer"], PASSWORD).text
    assert ("reviewer@example.org", "reviewer", False) in _accounts(console_db)
    latest = _audit(console_db)[0]  # a refused sign-in below the lock adds no entry
    assert (latest.actor, latest.action, latest.detail) == ("admin@example.org", "staff.deactivate", {"email": "reviewer@example.org"})


def test_the_only_admin_cannot_be_demoted_or_deactivated_nor_deactivate_themselves(app, people, console_db):
    admin = signed_in_client(app, people["admin"])
    own = _post(admin, f"/staff/{people['admin'].id}/deactivate", {})
    assert own.status_code == 400 and "you cannot deactivate your own account: ask another admin" in own.text
    demoted = _post(admin, f"/staff/{people['admin'].id}/role", {"role": "editor"})
    assert demoted.status_code == 400 and "admin@example.org is the only active admin: make another account admin" in demoted.text
    assert ("admin@example.org", "admin", True) in _accounts(console_db)
    _post(admin, f"/staff/{people['reviewer'].id}/role", {"role": "admin"})
    assert _post(admin, f"/staff/{people['admin'].id}/role", {"role": "editor"}).status_code == 303


def test_a_role_that_does_not_exist_and_an_account_that_does_not_exist_get_clear_pages(app, people):
    admin = signed_in_client(app, people["admin"])
    tampered = _post(admin, f"/staff/{people['editor'].id}/role", {"role": "owner"})
    assert tampered.status_code == 400 and "There is no role &#39;owner&#39;: choose one of editor, reviewer, admin." in tampered.text
    missing = _post(admin, "/staff/9999/deactivate", {})
    assert missing.status_code == 404 and "There is no such staff account." in missing.text
