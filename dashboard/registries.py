"""What the feature apps contribute to the core, registered from their AppConfig.ready().

The core never depends on a feature app (pools, exchanges, ...): its pages and checks ask these
registries instead, the way the poller asks `dashboard.sources` for a kind's client. Each
registry is keyed by name, so registering again (a second ready(), a test) replaces the entry
instead of adding a copy, and every list comes out in a defined order: `order`, then name.

- overview sections: blocks of the overview page, each a template fragment and its context;
- source panels and source links: what a source's page shows for the kinds an app serves;
- worker panels: what a worker's page shows beside the pool's own figures;
- earnings panels and columns: blocks of the Earnings page and columns of its CSV;
- navigation items: the app's pages in the top bar;
- audit groups: how the audit log names and filters an app's actions;
- health checks: extra keys of /healthz and their verdicts;
- `poll_finished`: the signal sent after every poll, once the run is committed;
- `demo_team_ready`: the signal demo mode sends once its team and sources exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from django.db import transaction
from django.dispatch import Signal

if TYPE_CHECKING:
    from dashboard.models import Membership, PollRun, Source, Team

log = logging.getLogger(__name__)


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def order(self) -> int: ...


Entry = TypeVar("Entry", bound=Named)


def ordered(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda entry: (entry.order, entry.name))


@dataclass(frozen=True)
class Fragment:
    """A registered template with the context it renders with, ready for `{% fragment %}`."""

    template: str
    context: Mapping[str, Any]


# Overview sections -----------------------------------------------------------------------

SectionContext = Callable[..., Mapping[str, Any] | None]


@dataclass(frozen=True)
class OverviewSection:
    """A block of the overview page, shown when the team has at least one source.

    `context(*, team, earlier)` returns what `template` renders with, or None to leave the
    section out. `earlier` (read-only) holds the page's own context ("summary": the team's
    source health) merged with what the sections before this one returned, so a later
    section may react to an earlier one's figures. `head_template`, if any, is included
    once in the page's <head> (the scripts the fragment needs).
    """

    name: str
    template: str
    context: SectionContext
    order: int = 100
    head_template: str = ""


OVERVIEW_SECTIONS: dict[str, OverviewSection] = {}


def overview_section_register(section: OverviewSection) -> OverviewSection:
    OVERVIEW_SECTIONS[section.name] = section
    return section


def overview_sections() -> list[OverviewSection]:
    return ordered(OVERVIEW_SECTIONS.values())


def overview_fragments(*, team: Team, context: Mapping[str, Any]) -> list[Fragment]:
    """Each shown section's fragment, in order, asking each one for its context."""
    earlier = dict(context)
    fragments = []
    for section in overview_sections():
        extra = section.context(team=team, earlier=MappingProxyType(earlier))
        if extra is None:
            continue
        earlier.update(extra)
        fragments.append(Fragment(section.template, extra))
    return fragments


def overview_head_templates() -> list[str]:
    return list(dict.fromkeys(s.head_template for s in overview_sections() if s.head_template))


# A source's page -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourcePanel:
    """A block of a source's page (inside its live status part, above the recent polls).

    `context(*, source)` returns what `template` renders with, or None to leave it out.
    `kinds` limits it to sources of those kinds; empty means every kind.
    """

    name: str
    template: str
    context: Callable[..., Mapping[str, Any] | None]
    kinds: tuple[str, ...] = ()
    order: int = 100


SOURCE_PANELS: dict[str, SourcePanel] = {}


def source_panel_register(panel: SourcePanel) -> SourcePanel:
    SOURCE_PANELS[panel.name] = panel
    return panel


def source_panel_fragments(*, source: Source) -> list[Fragment]:
    fragments = []
    for panel in ordered(SOURCE_PANELS.values()):
        if panel.kinds and source.kind not in panel.kinds:
            continue
        context = panel.context(source=source)
        if context is not None:
            fragments.append(Fragment(panel.template, context))
    return fragments


@dataclass(frozen=True)
class WorkerPanel:
    """A block of a worker's page, under its figures and above its chart.

    The core knows no worker model: a worker is named by its source and its name, the
    natural key the pools store it under. `context(*, source, worker_name)` returns what
    `template` renders with, or None to leave the panel out.
    """

    name: str
    template: str
    context: Callable[..., Mapping[str, Any] | None]
    order: int = 100


WORKER_PANELS: dict[str, WorkerPanel] = {}


def worker_panel_register(panel: WorkerPanel) -> WorkerPanel:
    WORKER_PANELS[panel.name] = panel
    return panel


def worker_panel_fragments(*, source: Source, worker_name: str) -> list[Fragment]:
    fragments = []
    for panel in ordered(WORKER_PANELS.values()):
        context = panel.context(source=source, worker_name=worker_name)
        if context is not None:
            fragments.append(Fragment(panel.template, context))
    return fragments


@dataclass(frozen=True)
class SourceLink:
    """A button in a source page's head, before the core's own (Poll now, Edit).

    `url(*, source, membership)` returns the address, or None for no button (another kind,
    or a role that may not use it).
    """

    name: str
    label: str
    url: Callable[..., str | None]
    order: int = 100


@dataclass(frozen=True)
class Link:
    label: str
    href: str


SOURCE_LINKS: dict[str, SourceLink] = {}


def source_link_register(link: SourceLink) -> SourceLink:
    SOURCE_LINKS[link.name] = link
    return link


def source_links(*, source: Source, membership: Membership | None) -> list[Link]:
    links = []
    for link in ordered(SOURCE_LINKS.values()):
        href = link.url(source=source, membership=membership)
        if href:
            links.append(Link(link.label, href))
    return links


# The JSON API's sources list -------------------------------------------------------------


@dataclass(frozen=True)
class SourceApiField:
    """An extra key on each source of `GET /api/v1/sources`.

    `values(*, sources)` answers for the whole list in one go (a query or two, not one per
    source) with a mapping from source id to value; a source it leaves out gets `default`.
    """

    name: str
    values: Callable[..., Mapping[int, Any]]
    default: Any = None
    order: int = 100


SOURCE_API_FIELDS: dict[str, SourceApiField] = {}


def source_api_field_register(field: SourceApiField) -> SourceApiField:
    SOURCE_API_FIELDS[field.name] = field
    return field


def source_api_extras(*, sources: list[Source]) -> dict[int, dict[str, Any]]:
    """Per source id, the registered keys and their values."""
    extras: dict[int, dict[str, Any]] = {source.pk: {} for source in sources}
    for field in ordered(SOURCE_API_FIELDS.values()):
        values = field.values(sources=sources)
        for source in sources:
            extras[source.pk][field.name] = values.get(source.pk, field.default)
    return extras


# The Earnings page and its CSV ------------------------------------------------------------


@dataclass(frozen=True)
class EarningsPanel:
    """A block of the Earnings page, under its totals and charts (treasury: profitability).

    `context(*, team, sources, start, end)` gets the page's pool sources and its range of
    UTC days (`start` None: from the first) and returns what `template` renders with, or
    None to leave the block out.
    """

    name: str
    template: str
    context: Callable[..., Mapping[str, Any] | None]
    order: int = 100


EARNINGS_PANELS: dict[str, EarningsPanel] = {}


def earnings_panel_register(panel: EarningsPanel) -> EarningsPanel:
    EARNINGS_PANELS[panel.name] = panel
    return panel


def earnings_panel_fragments(*, team: Team, sources: list[Source], start: Any, end: Any) -> list[Fragment]:
    fragments = []
    for panel in ordered(EARNINGS_PANELS.values()):
        context = panel.context(team=team, sources=sources, start=start, end=end)
        if context is not None:
            fragments.append(Fragment(panel.template, context))
    return fragments


@dataclass(frozen=True)
class EarningsColumns:
    """Columns appended to each row of the earnings CSV, after the pools' own (so scripts
    reading earlier columns by position keep working).

    `values(*, team, sources, start, end)` answers for the whole export in one go: a mapping
    from (source id, day, coin) to one text per header; a row it leaves out gets blanks.
    None leaves the columns out of this export (nothing of theirs applies to its sources).
    """

    name: str
    headers: tuple[str, ...]
    values: Callable[..., Mapping[tuple[int, Any, str], Sequence[str]] | None]
    order: int = 100


EARNINGS_COLUMNS: dict[str, EarningsColumns] = {}


def earnings_columns_register(columns: EarningsColumns) -> EarningsColumns:
    EARNINGS_COLUMNS[columns.name] = columns
    return columns


def earnings_columns() -> list[EarningsColumns]:
    return ordered(EARNINGS_COLUMNS.values())


# Navigation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    """A page of an app in the top bar, between Overview and Sources.

    `url_name` is reversed without arguments; the item is marked current on any page whose
    URL name is in `current` (`url_name` itself when empty).
    """

    name: str
    label: str
    url_name: str
    current: tuple[str, ...] = ()
    order: int = 100

    @property
    def current_names(self) -> tuple[str, ...]:
        return self.current or (self.url_name,)


NAV_ITEMS: dict[str, NavItem] = {}


def nav_item_register(item: NavItem) -> NavItem:
    NAV_ITEMS[item.name] = item
    return item


def nav_items() -> list[NavItem]:
    return ordered(NAV_ITEMS.values())


# The audit log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditGroup:
    """A feature app's actions in the audit log: a filter choice (`name` is the actions'
    prefix, e.g. "alerts.") and the sentence each action reads as, with {names} filled from
    the event's detail, as the core's own are."""

    name: str
    label: str
    sentences: Mapping[str, str]
    order: int = 100


AUDIT_GROUPS: dict[str, AuditGroup] = {}


def audit_group_register(group: AuditGroup) -> AuditGroup:
    AUDIT_GROUPS[group.name] = group
    return group


def audit_groups() -> list[AuditGroup]:
    return ordered(AUDIT_GROUPS.values())


# Health checks ---------------------------------------------------------------------------

HealthStatus = Literal["ok", "degraded", "down"]


@dataclass(frozen=True)
class HealthReport:
    """What a check found: `value` goes under the check's key in /healthz (JSON-ready);
    `status` "degraded" or "down" lowers the overall status ("down" answers 503)."""

    value: Any
    status: HealthStatus = "ok"


@dataclass(frozen=True)
class HealthCheck:
    """An extra key of /healthz. `run(*, now)` is called only when the database answers;
    otherwise the key shows `idle` (the overall status is "down" then anyway). /healthz is
    public: a check's value must name no source, team or secret."""

    name: str
    run: Callable[..., HealthReport]
    idle: Any = None
    order: int = 100


HEALTH_CHECKS: dict[str, HealthCheck] = {}
# The core's own keys of /healthz, which no check may replace.
HEALTH_CORE_KEYS = frozenset({"status", "database", "redis", "beat", "oldest_stale_source"})


def health_check_register(check: HealthCheck) -> HealthCheck:
    if check.name in HEALTH_CORE_KEYS:
        raise ValueError(f"/healthz already has a {check.name!r} key of its own")
    HEALTH_CHECKS[check.name] = check
    return check


def health_reports(*, now: datetime, database_up: bool) -> dict[str, HealthReport]:
    """Every registered check's report, keyed by its name, in order."""
    reports = {}
    for check in ordered(HEALTH_CHECKS.values()):
        if not database_up:
            reports[check.name] = HealthReport(check.idle)
            continue
        try:
            reports[check.name] = check.run(now=now)
        except Exception:
            # A broken check must not take /healthz down with it: it says "degraded".
            log.exception("Health check %s failed", check.name)
            reports[check.name] = HealthReport(check.idle, "degraded")
    return reports


# After each poll -------------------------------------------------------------------------

# Sent once per poll that ran (not when another worker held the source), after the PollRun
# and the source's new state are committed. Arguments: sender=Source (the model class),
# source (Source, updated), run (PollRun), outcome (PollRun.Outcome value: "ok",
# "transient", "permanent", "schema" or "internal").
poll_finished = Signal()


def poll_finished_send(*, source: Source, run: PollRun) -> None:
    """Send `poll_finished` once the surrounding transaction commits (at once outside one).
    A failing receiver is logged; it never fails the poll or stops the other receivers."""

    def send() -> None:
        for receiver, result in poll_finished.send_robust(
                sender=type(source), source=source, run=run, outcome=run.outcome):
            if isinstance(result, Exception):
                log.error("poll_finished receiver %r failed for source %s", receiver, source.pk,
                          exc_info=result)

    transaction.on_commit(send)


# Demo mode -------------------------------------------------------------------------------

# Sent by demo mode's setup (`manage.py demo`), inside its transaction, once the demo team and
# its sources exist, so each app adds what shows its feature there. Arguments: sender=Team
# (the model class), team, and troubled: the sources whose workers the simulator's scenario
# drops now and then (a list, maybe empty), so an app can watch just those where watching
# every source would flag each simulated dead or flaky worker. The setup runs at every
# start: receivers must be idempotent.
demo_team_ready = Signal()
