from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from alerts.channels import channel_create
from alerts.delivery import deliveries_send
from alerts.evaluation import teams_evaluate
from alerts.models import AlertState, Channel, Rule
from alerts.rules import RULE_KINDS, rule_create, rule_describe
from alerts.selectors import alerts_list
from dashboard.management.commands._base import key_values, team_by_slug, validation_error
from dashboard.models import Source, Team

# Rounds of sending after an evaluation: each sends what is due, so a long outbox drains.
SEND_ROUNDS = 20


def table(write: Any, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        write("  ".join([*cells, row[-1]]).rstrip())


class Command(BaseCommand):
    help = "Alert channels and rules, evaluating now, and the list of alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="area", required=True, metavar="{channel,rule,evaluate,list}")
        channel = sub.add_parser("channel", help="add or list channels").add_subparsers(
            dest="action", required=True, metavar="{add,list}")
        add = channel.add_parser("add", help="add an Apprise channel; prints its id on the last line")
        add.add_argument("--team", required=True, metavar="SLUG")
        add.add_argument("--url", required=True, metavar="APPRISE_URL",
                         help="e.g. tgram://BOT_TOKEN/CHAT_ID, json://host/path, mailto://...")
        add.add_argument("--label", default="")
        channel.add_parser("list", help="list a team's channels").add_argument(
            "--team", required=True, metavar="SLUG")
        rule = sub.add_parser("rule", help="add or list rules").add_subparsers(
            dest="action", required=True, metavar="{add,list}")
        add = rule.add_parser("add", help="add a rule; prints its id on the last line")
        add.add_argument("--team", required=True, metavar="SLUG")
        add.add_argument("--kind", required=True, help=f"one of: {', '.join(RULE_KINDS)}")
        add.add_argument("--source", type=int, default=None, metavar="ID",
                         help="the source it watches; without it, every source of the team "
                              "where the kind allows")
        add.add_argument("--for-minutes", type=int, default=None, metavar="N")
        add.add_argument("--threshold", default=None, metavar="VALUE")
        add.add_argument("--unit", default="", help="hashrate_drop: % (default) or H/s ... EH/s")
        add.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                         help="name_pattern, coin, hysteresis_pct, product, condition, from, to")
        add.add_argument("--severity", default=None, choices=["info", "warning", "critical"])
        add.add_argument("--reminder-minutes", type=int, default=None, metavar="N")
        add.add_argument("--label", default="")
        rule.add_parser("list", help="list a team's rules").add_argument(
            "--team", required=True, metavar="SLUG")
        sub.add_parser("evaluate", help="evaluate every team now and send what is due")
        listing = sub.add_parser("list", help="list a team's alerts, firing first")
        listing.add_argument("--team", required=True, metavar="SLUG")
        listing.add_argument("--state", default=None, choices=[s.value for s in AlertState])

    def handle(self, *args: Any, **options: Any) -> None:
        area, action = options["area"], options.get("action")
        if area == "evaluate":
            self.evaluate()
            return
        team = team_by_slug(options["team"])
        if area == "list":
            self.list_alerts(team, options["state"])
        elif area == "channel" and action == "add":
            try:
                channel = channel_create(team=team, url=options["url"], label=options["label"])
            except ValidationError as error:
                raise validation_error(error) from None
            self.stdout.write(f"Added channel {channel.label!r} ({channel.hint}) to {team.slug}.")
            self.stdout.write(str(channel.pk))
        elif area == "channel":
            rows = [(str(c.pk), c.kind, c.label, c.hint, "on" if c.enabled else "off", c.status)
                    for c in Channel.objects.filter(team=team).order_by("label", "id")]
            table(self.stdout.write, ("ID", "KIND", "LABEL", "WHERE", "ENABLED", "STATUS"), rows)
        elif action == "add":
            self.add_rule(team, options)
        else:
            rules = [(str(r.pk), r.kind, "on" if r.enabled else "off", rule_describe(r) + (
                f" [{r.disabled_note}]" if r.disabled_note else ""))
                for r in Rule.objects.filter(team=team).select_related("source").order_by("kind", "id")]
            table(self.stdout.write, ("ID", "KIND", "ENABLED", "RULE"), rules)

    def add_rule(self, team: Team, options: dict[str, Any]) -> None:
        source = None
        if options["source"] is not None:
            source = Source.objects.filter(team=team, pk=options["source"]).first()
            if source is None:
                raise CommandError(f"no source {options['source']} in {team.slug}; see "
                                   f"'python manage.py sources list --team {team.slug}'")
        params = key_values(options["param"], "param")
        try:
            rule = rule_create(team=team, kind=options["kind"], source=source,
                               for_minutes=options["for_minutes"], threshold=options["threshold"],
                               threshold_unit=options["unit"], params=params,
                               severity=options["severity"], reminder_minutes=options["reminder_minutes"],
                               label=options["label"])
        except ValidationError as error:
            raise validation_error(error) from None
        self.stdout.write(f"Added rule {rule_describe(rule)!r} to {team.slug}.")
        self.stdout.write(str(rule.pk))

    def evaluate(self) -> None:
        evaluations = teams_evaluate()
        for result in evaluations:
            self.stdout.write(
                f"{result.team_slug}: {result.rules} rules, {result.fired} fired, "
                f"{result.resolved} resolved, {result.pending} pending, "
                f"{len(result.deliveries)} messages queued"
                + (f", rules failed: {result.failed_rules}" if result.failed_rules else ""))
        sent = 0
        for _ in range(SEND_ROUNDS):
            # A channel that fails is retried later by the beat; exit 0 all the same.
            done = deliveries_send()
            sent += done
            if not done:
                break
        self.stdout.write(f"{len(evaluations)} teams evaluated, {sent} messages sent.")

    def list_alerts(self, team: Team, state: str | None) -> None:
        rows = [(str(a.pk), a.state, a.rule.kind, a.subject, a.source.label if a.source else "-",
                 a.started_at.isoformat() if a.started_at else "-", a.value)
                for a in alerts_list(team=team, state=state)]
        if not rows:
            self.stdout.write(f"{team.slug} has no {state or ''} alerts.".replace("  ", " "))
            return
        table(self.stdout.write, ("ID", "STATE", "KIND", "SUBJECT", "SOURCE", "STARTED", "VALUE"), rows)
