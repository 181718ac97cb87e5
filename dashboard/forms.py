"""Source forms built from the registry: a new kind brings its fields, not form code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from dashboard.models import Source
from dashboard.sources import SourceKind
from dashboard.templatetags.hashwatch import relative

CREDENTIAL_PREFIX = "credential_"
OPTION_PREFIX = "option_"


LABEL_MAX = Source._meta.get_field("label").max_length or 100


class SourceForm(forms.Form):
    label = forms.CharField(
        max_length=LABEL_MAX,
        help_text=f"How this account is named on every page: up to {LABEL_MAX} characters.",
        error_messages={"max_length": f"Keep the name to {LABEL_MAX} characters or fewer "
                                      "(this one has %(show_value)d); nothing was saved."},
    )
    base_url = forms.CharField(
        max_length=300, required=False, label="Base URL",
        help_text="Leave empty for the provider's documented address.",
    )
    interval = forms.IntegerField(
        min_value=15, initial=60, label="Poll every (seconds)",
        help_text="At least 15 s. Most pools refresh their figures once a minute.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Poll this source")

    def __init__(self, *args: Any, spec: SourceKind, source: Source | None = None, **kwargs: Any):
        self.spec, self.source = spec, source
        if source is not None:
            kwargs.setdefault("initial", {
                "label": source.label, "base_url": source.base_url, "interval": source.interval,
                "enabled": source.enabled,
                **{OPTION_PREFIX + k: v for k, v in source.options.items()},
            })
        else:
            kwargs.setdefault("initial", {"interval": spec.default_interval, "enabled": True})
        super().__init__(*args, **kwargs)
        # A browser's maxlength cuts a pasted name without a word: the server's message says why.
        self.fields["label"].widget.attrs.pop("maxlength", None)
        self.fields["base_url"].widget.attrs["placeholder"] = spec.default_base_url(
            source.options if source else {}
        )
        for item in spec.options:
            field: forms.Field
            if item.choices:
                choices = [(c, c) for c in item.choices]
                if not item.required and not item.default:
                    choices.insert(0, ("", "—"))
                field = forms.ChoiceField(choices=choices, required=False, initial=item.default)
            else:
                field = forms.CharField(required=False, initial=item.default)
            field.label, field.help_text = item.label, item.help
            self.fields[OPTION_PREFIX + item.name] = field
        stored = source.credentials if source else {}
        for item in spec.credential_fields:
            field = forms.CharField(
                required=False, label=item.label, strip=True,
                # render_value=False: a stored key never travels back to the browser.
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            )
            field.help_text = credential_help(item.help, is_set=item.name in stored,
                                              changed_at=source.credentials_changed_at if source else None)
            self.fields[CREDENTIAL_PREFIX + item.name] = field

    def option_values(self) -> dict[str, Any]:
        return {name[len(OPTION_PREFIX):]: value for name, value in self.cleaned_data.items()
                if name.startswith(OPTION_PREFIX)}

    def credential_values(self) -> dict[str, str]:
        return {name[len(CREDENTIAL_PREFIX):]: value for name, value in self.cleaned_data.items()
                if name.startswith(CREDENTIAL_PREFIX)}

    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(OPTION_PREFIX)]

    def credential_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(CREDENTIAL_PREFIX)]

    def add_service_errors(self, error: ValidationError) -> None:
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


def credential_help(text: str, *, is_set: bool, changed_at: Any) -> str:
    if not is_set:
        return text
    when = f", changed {relative(changed_at, timezone.now())}" if changed_at else ""
    state = f"Set{when}. Leave empty to keep it."
    return f"{state} {text}".strip()
