"""history_days was prefilled with 90 in the source form, so most pool sources stored it
without anyone choosing it. It is now an optional cap with no default: a stored 90 goes, so
those sources back-fill all their history too. Any other value was typed in and stays."""

from django.db import migrations

POOL_KINDS = ("btccom", "btcpoolkz", "sbicrypto")


def forget_the_old_default(apps, schema_editor):  # type: ignore[no-untyped-def]
    Source = apps.get_model("dashboard", "Source")
    for source in Source.objects.filter(kind__in=POOL_KINDS):
        if str((source.options or {}).get("history_days", "")).strip() in ("90", ""):
            options = dict(source.options or {})
            if options.pop("history_days", None) is not None:
                source.options = options
                source.save(update_fields=["options"])


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0003_team_require_2fa_totpdevice"),
        ("pools", "0003_history_backfill"),
    ]

    operations = [migrations.RunPython(forget_the_old_default, migrations.RunPython.noop)]
