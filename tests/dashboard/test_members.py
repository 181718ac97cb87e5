"""Members: invitations by email, roles, removal, leaving, the last owner, passwords."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from dashboard.models import AuditEvent, Invitation, Membership, Role, hash_token
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "tangerine-orbit-lantern-42"


def invite(client: Client, email: str = "dave@example.com", role: str = "admin") -> str:
    """Send an invitation through the page; the link path from the email."""
    response = client.post("/settings/members/invite/", {"email": email, "role": role})
    assert response.status_code == 302, response.content.decode()
    match = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def actions(team) -> list[str]:
    return list(AuditEvent.objects.filter(team=team).values_list("action", flat=True))


def test_an_invitation_email_carries_a_one_time_link(alice, team) -> None:
    path = invite(client_for(alice))
    message = mail.outbox[-1]
    assert message.to == ["dave@example.com"]
    assert "Alice Mining" in message.subject
    assert "alice invited you" in message.body and "expires in 7 days" in message.body
    invitation = Invitation.objects.get(team=team)
    token = path.split("/")[2]
    assert invitation.token_hash == hash_token(token)
    assert token not in str(Invitation.objects.values().get())
    event = AuditEvent.objects.get(action="member.invited")
    assert event.target == "dave@example.com" and token not in str(event.detail)


def test_it_rejects_a_bad_email_and_an_existing_member(alice, bob, team) -> None:
    client = client_for(alice)
    response = client.post("/settings/members/invite/", {"email": "not-an-email", "role": "viewer"})
    assert response.status_code == 200 and "valid email" in response.content.decode()
    response = client.post("/settings/members/invite/", {"email": "bob@example.com", "role": "viewer"})
    assert "already a member" in response.content.decode()
    assert mail.outbox == [] and not Invitation.objects.exists()


def test_a_second_invitation_to_the_same_address_waits_for_the_first(alice) -> None:
    client = client_for(alice)
    invite(client)
    response = client.post("/settings/members/invite/", {"email": "dave@example.com", "role": "viewer"})
    assert "pending invitation" in response.content.decode()


def test_a_new_person_creates_an_account_and_joins(alice, team) -> None:
    path = invite(client_for(alice), role="admin")
    visitor = Client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Create an account" in page.content.decode()
    weak = visitor.post(path, {"action": "signup", "signup-username": "dave",
                               "signup-password1": "12345678", "signup-password2": "12345678"})
    assert "too common" in weak.content.decode() or "entirely numeric" in weak.content.decode()
    response = visitor.post(path, {"action": "signup", "signup-username": "dave",
                                   "signup-password1": NEW_PASSWORD,
                                   "signup-password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    dave = User.objects.get(username="dave")
    assert dave.email == "dave@example.com"
    assert Membership.objects.get(team=team, user=dave).role == Role.ADMIN
    assert "Alice Mining" in visitor.get("/").content.decode()
    assert AuditEvent.objects.get(action="member.joined").actor == dave


def test_an_existing_account_signs_in_on_the_page_and_joins(alice, charlie, team) -> None:
    path = invite(client_for(alice), email="charlie@example.com", role="viewer")
    visitor = Client()
    assert 'action="/accounts/login/"' in visitor.get(path).content.decode()
    back = visitor.post("/accounts/login/", {"username": "charlie", "password": PASSWORD,
                                             "next": path}, follow=True)
    assert "Join Alice Mining" in back.content.decode()
    visitor.post(path, {"action": "join"})
    assert Membership.objects.get(team=team, user=charlie).role == Role.VIEWER
    assert Membership.objects.filter(user=charlie).count() == 2


def test_a_signed_in_person_joins_with_a_button_and_the_link_is_single_use(alice, charlie, team) -> None:
    path = invite(client_for(alice), email="someone-else@example.com")
    client = client_for(charlie)
    assert "Join Alice Mining" in client.get(path).content.decode()
    assert not Membership.objects.filter(team=team, user=charlie).exists()  # GET changes nothing
    client.post(path, {"action": "join"})
    assert Membership.objects.filter(team=team, user=charlie, role=Role.ADMIN).exists()
    again = Client().get(path)
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_an_expired_or_unknown_link_explains_itself(alice, team) -> None:
    path = invite(client_for(alice))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get(path)
    assert response.status_code == 410 and "expired" in response.content.decode()
    response = Client().post(path, {"action": "signup", "signup-username": "dave",
                                    "signup-password1": NEW_PASSWORD,
                                    "signup-password2": NEW_PASSWORD})
    assert response.status_code == 410 and not User.objects.filter(username="dave").exists()
    response = Client().get("/invitations/not-a-real-token/")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_a_revoked_invitation_stops_working(alice, team) -> None:
    client = client_for(alice)
    path = invite(client)
    invitation = Invitation.objects.get()
    client.post(f"/settings/invitations/{invitation.pk}/revoke/")
    assert Client().get(path).status_code == 404
    assert "invitation.revoked" in actions(team)


def test_owner_changes_a_role_and_removes_a_member(alice, bob, team) -> None:
    client = client_for(alice)
    bob_membership = Membership.objects.get(user=bob)
    client.post(f"/settings/members/{bob_membership.pk}/role/", {"role": "admin"})
    bob_membership.refresh_from_db()
    assert bob_membership.role == Role.ADMIN
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.detail == {"from": "viewer", "to": "admin"} and event.target == "bob"
    client.post(f"/settings/members/{bob_membership.pk}/remove/")
    assert not Membership.objects.filter(user=bob).exists()
    assert "member.removed" in actions(team)


def test_the_last_owner_cannot_leave_be_demoted_or_removed(alice, carol, team) -> None:
    client = client_for(alice)
    own = Membership.objects.get(user=alice)
    response = client.post(f"/settings/members/{own.pk}/role/", {"role": "viewer"}, follow=True)
    assert "needs at least one owner" in response.content.decode()
    response = client.post("/settings/members/leave/", follow=True)
    assert "needs at least one owner" in response.content.decode()
    client.post(f"/settings/members/{own.pk}/remove/")
    own.refresh_from_db()
    assert own.role == Role.OWNER
    client.post(f"/settings/members/{Membership.objects.get(user=carol).pk}/role/", {"role": "owner"})
    client.post(f"/settings/members/{own.pk}/role/", {"role": "viewer"})
    own.refresh_from_db()
    assert own.role == Role.VIEWER


def test_a_member_can_leave(alice, bob, team) -> None:
    client = client_for(bob)
    response = client.post("/settings/members/leave/")
    assert response.status_code == 302
    assert not Membership.objects.filter(user=bob).exists()
    assert AuditEvent.objects.get(action="member.left").target == "bob"


def test_only_owners_manage_members(carol, bob, alice, team) -> None:
    bob_membership = Membership.objects.get(user=bob)
    admin = client_for(carol)
    assert admin.get("/settings/members/").status_code == 200
    assert "Send invitation" not in admin.get("/settings/members/").content.decode()
    assert admin.post(f"/settings/members/{bob_membership.pk}/role/", {"role": "owner"}).status_code == 403
    assert admin.post(f"/settings/members/{bob_membership.pk}/remove/").status_code == 403
    invited = admin.post("/settings/members/invite/", {"email": "x@example.com", "role": "owner"})
    assert invited.status_code == 403


def test_other_teams_members_and_invitations_answer_404(alice, charlie, team) -> None:
    invite(client_for(alice))
    outsider = client_for(charlie)
    alice_membership = Membership.objects.get(user=alice)
    invitation = Invitation.objects.get()
    demote = outsider.post(f"/settings/members/{alice_membership.pk}/role/", {"role": "viewer"})
    assert demote.status_code == 404
    assert outsider.post(f"/settings/members/{alice_membership.pk}/remove/").status_code == 404
    assert outsider.post(f"/settings/invitations/{invitation.pk}/revoke/").status_code == 404
    assert Invitation.objects.exists() and Membership.objects.filter(user=alice).exists()


def test_a_user_changes_their_password(alice, team) -> None:
    client = client_for(alice)
    assert client.get("/accounts/password/change/").status_code == 200
    response = client.post("/accounts/password/change/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="password.changed")
    assert NEW_PASSWORD not in str(event.detail) and PASSWORD not in str(event.detail)


def test_a_forgotten_password_is_reset_by_email(alice, team) -> None:
    client = Client()
    assert client.get("/accounts/password/reset/").status_code == 200
    client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    body = mail.outbox[-1].body
    assert "Hello alice" in body
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", body).group(1)  # type: ignore[union-attr]
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.get(action="password.changed").detail == {"how": "reset by email"}
    used = client.get(link, follow=True)
    assert "no longer valid" in used.content.decode()
