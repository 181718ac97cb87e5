"""Admin: channels through the same services as the pages (validation, audit, a URL that is
write-only), and the rules, alerts, silences and delivery log to look at. Rules and silences
are changed on the team's pages, where their services check and audit every change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from alerts import channels
from alerts.models import Alert, Channel, Delivery, Rule, Silence


class ChannelAdminForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=list(channels.KINDS.items()))
    url = forms.CharField(
        required=False, label="Address",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only: an Apprise URL, or email addresses; none for in the app. "
                  "Empty keeps what is stored.")

    class Meta:
        model = Channel
        fields = ["team", "kind", "label", "enabled"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        url = data.get("url") or ""
        kind = self.instance.kind if self.instance.pk else data.get("kind", channels.APPRISE)
        if url or not self.instance.pk:
            try:
                channels.channel_target(kind=kind, url=url)
            except ValidationError as exc:
                self.add_error("url", exc)
        return data


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ["label", "team", "kind", "hint", "enabled", "status", "last_delivery_at"]
    list_filter = ["kind", "status", "enabled", "team"]
    search_fields = ["label", "hint", "team__name"]
    readonly_fields = ["hint", "status", "last_delivery_at", "last_error", "last_error_at",
                       "created_by", "created_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A new channel has no state to show yet.
        return ["team", "kind", "label", "url", "enabled", *(self.readonly_fields if obj else ())]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The kind decides what the address means: a channel of another kind is a new one.
        return [*self.readonly_fields, "team", "kind"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Channel, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            original = Channel.objects.get(pk=obj.pk)
            saved = channels.channel_update(channel=original, label=data["label"],
                                            url=data.get("url") or None,
                                            actor=request.user, request=request)
            if saved.enabled != data["enabled"]:
                channels.channel_set_enabled(channel=saved, enabled=data["enabled"],
                                             actor=request.user, request=request)
        else:
            saved = channels.channel_create(team=data["team"], kind=data["kind"],
                                            url=data.get("url") or "", label=data["label"],
                                            actor=request.user, request=request)
            if not data["enabled"]:
                channels.channel_set_enabled(channel=saved, enabled=False,
                                             actor=request.user, request=request)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Channel) -> None:
        channels.channel_delete(channel=obj, actor=request.user, request=request)


class LookOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(LookOnlyAdmin):
    list_display = ["created_at", "team", "channel", "kind", "title", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "team"]
    search_fields = ["title", "channel__label"]
    exclude = ["claim_token"]
    list_select_related = ["team", "channel"]


@admin.register(Alert)
class AlertAdmin(LookOnlyAdmin):
    list_display = ["rule", "subject", "team", "state", "started_at", "resolved_at", "value"]
    list_filter = ["state", "team"]
    search_fields = ["subject", "message"]
    list_select_related = ["rule", "team"]


@admin.register(Rule)
class RuleAdmin(LookOnlyAdmin):
    list_display = ["__str__", "team", "kind", "source", "enabled", "severity", "for_minutes"]
    list_filter = ["kind", "enabled", "team"]
    list_select_related = ["team", "source"]


@admin.register(Silence)
class SilenceAdmin(LookOnlyAdmin):
    list_display = ["reason", "team", "source", "rule", "worker_pattern", "starts_at", "ends_at"]
    list_filter = ["team"]
