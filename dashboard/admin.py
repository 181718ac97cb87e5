"""Admin: the same write-only rule for credentials as the settings pages, and the same
validation and audit (through dashboard.services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from dashboard import services
from dashboard.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    PollRun,
    Source,
    Team,
    TotpDevice,
)
from dashboard.sources import REGISTRY, get_kind, kind_choices

CREDENTIAL_PREFIX = "credential_"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


def source_admin_form() -> type[forms.ModelForm]:
    """Built per request: the registry is filled after the admin module is imported."""
    credential_fields: dict[str, forms.Field] = {}
    for spec in REGISTRY.values():
        for item in spec.credential_fields:
            name = CREDENTIAL_PREFIX + item.name
            if name in credential_fields:
                credential_fields[name].help_text += f", {spec.label}"
                continue
            credential_fields[name] = forms.CharField(
                required=False, label=item.label,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=f"Write-only; empty keeps what is stored. Used by {spec.label}",
            )

    class SourceAdminForm(forms.ModelForm):
        kind = forms.ChoiceField(choices=kind_choices())

        class Meta:
            model = Source
            fields = ["team", "kind", "label", "base_url", "options", "interval", "enabled"]

        def clean(self) -> dict[str, Any]:
            data = super().clean() or {}
            if self.errors:
                return data
            spec = get_kind(data["kind"])
            new = {name[len(CREDENTIAL_PREFIX):]: value for name, value in data.items()
                   if name.startswith(CREDENTIAL_PREFIX) and value}
            stored = self.instance.credentials if self.instance.pk else {}
            problems = services.source_problems(
                spec=spec, team=data["team"], label=data["label"].strip(),
                base_url=data.get("base_url", ""), options=data.get("options") or {},
                credentials={**stored, **new}, interval=data["interval"],
                exclude_pk=self.instance.pk,
            )
            if problems:
                raise ValidationError(
                    {field if field in self.fields else None: msgs  # type: ignore[misc]
                     for field, msgs in problems.items()}
                )
            return data

    return type("SourceAdminForm", (SourceAdminForm,), credential_fields)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["label", "team", "kind", "enabled", "status", "last_success_at", "interval"]
    list_filter = ["kind", "enabled", "team"]
    search_fields = ["label", "team__name"]
    readonly_fields = ["credentials_state", "credentials_changed_at", "last_poll_at",
                       "last_success_at", "last_error", "last_error_at", "error_is_permanent"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = source_admin_form()
        kwargs["fields"] = None
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        form = source_admin_form()
        model_fields = list(form._meta.fields or [])
        extra = [name for name in form.base_fields if name not in model_fields]
        return [*model_fields, *extra, *self.readonly_fields]

    @admin.display(description="Credentials")
    def credentials_state(self, obj: Source) -> str:
        if obj.credentials.unreadable:
            return "unreadable: encrypted with a key that is no longer configured"
        return ", ".join(f"{name}: set" for name in obj.credentials) or "none"

    def save_model(self, request: HttpRequest, obj: Source, form: Any, change: bool) -> None:
        data = form.cleaned_data
        new = {name[len(CREDENTIAL_PREFIX):]: value for name, value in data.items()
               if name.startswith(CREDENTIAL_PREFIX)}
        if change:
            original = Source.objects.get(pk=obj.pk)
            saved = services.source_update(
                source=original, label=data["label"], base_url=data.get("base_url", ""),
                options=data.get("options") or {}, new_credentials=new,
                interval=data["interval"], enabled=data["enabled"],
                actor=request.user, request=request,
            )
        else:
            saved = services.source_create(
                team=data["team"], kind=data["kind"], label=data["label"],
                base_url=data.get("base_url", ""), options=data.get("options") or {},
                credentials=new, interval=data["interval"], enabled=data["enabled"],
                actor=request.user, request=request,
            )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Source) -> None:
        services.source_delete(source=obj, actor=request.user, request=request)


@admin.register(PollRun)
class PollRunAdmin(admin.ModelAdmin):
    list_display = ["source", "started_at", "outcome", "duration_ms", "message"]
    list_filter = ["outcome"]
    search_fields = ["source__label", "message"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at"]
    fields = ["team", "name", "read_only", "revoked_at", *readonly_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token must be shown once to whoever makes it: `manage.py apitoken create`.
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "team", "actor_label", "action", "target", "ip"]
    list_filter = ["action", "team"]
    search_fields = ["actor_label", "target"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TotpDevice)
class TotpDeviceAdmin(admin.ModelAdmin):
    """Deleting a device is how an admin helps someone who lost their phone; the secret is
    never shown or edited here."""

    list_display = ["user", "confirmed", "created_at", "confirmed_at"]
    search_fields = ["user__username"]
    fields = readonly_fields = ("user", "confirmed", "created_at", "confirmed_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "team", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["team", "role"]
    search_fields = ["email"]
    exclude = ["token_hash"]
    readonly_fields = ["invited_by", "created_at", "accepted_at", "accepted_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # An invitation's link is shown once to whoever makes it: the Members page.
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows can be viewed and deleted (a bad reading, say), never added or changed."""

    list_select_related = ["source"]
    show_full_result_count = False  # a count of millions of samples costs more than the page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
