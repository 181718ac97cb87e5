"""What the accessibility browser tests share: a team with every kind of data on every page,
axe-core run in the page, and a signed-in context per colour scheme."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from alerts.models import Rule
from dashboard.members import invitation_create
from dashboard.models import Source, Team
from dashboard.polling import source_poll
from dashboard.services import apitoken_create, source_create
from pools.models import Worker
from simulator import btcchange24
from simulator.server import SimulatorServer
from tests.conftest import PASSWORD
from tests.e2e.test_alerts_browser import seed_every_kind_of_row
from tests.e2e.test_markets_browser import go_live
from tests.e2e.test_pools_browser import seed_day_of_samples
from tests.exchanges.test_markets_page import flowbtc_source, seed_account, seed_market

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Each chart drawn; a market chart without data is hidden instead.
CHARTS_DRAWN = """() => [...document.querySelectorAll('figure.chart, figure.market-chart')]
  .every(f => f.hidden || f.hasAttribute('data-drawn'))"""

# Opens every "Show as table" of the page, so the tables are checked too, once they are
# built (on the toggle event). A day of readings is hundreds of rows alike: past the first
# few they only slow axe-core down, so they go.
OPEN_CHART_TABLES = """async () => {
  const boxes = [...document.querySelectorAll('details.chart-data:not([hidden])')];
  boxes.forEach(d => { d.open = true; });
  const frame = () => new Promise(r => requestAnimationFrame(r));
  while (!boxes.every(d => d.querySelector('table'))) await frame();
  boxes.forEach(d => d.querySelectorAll('tbody tr:nth-child(n+6)').forEach(row => row.remove()));
  // Boxes that scroll become focusable a frame after they appear.
  await frame(); await frame();
}"""

# One sample of every badge, chip, message, notice and status text style the stylesheets
# define, whether or not the data shows it today, so the whole palette is checked.
PALETTE = """async () => {
  const app = document.querySelector('link[href*="css/app.css"]');
  await Promise.all(['exchanger.css', 'markets.css'].map(name => new Promise(done => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = app.href.replace('app.css', name);
    link.onload = done;
    document.head.append(link);
  })));
  const kinds = {badge: 'span', chip: 'span', message: 'div', notice: 'div'};
  const texts = ['warn-text', 'error-note', 'fiat-stale', 'tile-error-text', 'stat-hero'];
  const names = new Set();
  for (const sheet of document.styleSheets) {
    for (const rule of sheet.cssRules) {
      const found = (rule.selectorText || '').matchAll(/\\.((?:badge|chip|message|notice)-[\\w-]+)/g);
      for (const m of found) names.add(m[1]);
    }
  }
  const box = document.createElement('div');
  box.id = 'palette';
  box.className = 'card';
  for (const name of [...names].sort()) {
    const el = document.createElement(kinds[name.split('-')[0]]);
    el.className = name.split('-')[0] + ' ' + name;
    el.textContent = 'Sample of ' + name;
    box.append(el);
  }
  for (const name of texts) {
    const el = document.createElement('p');
    el.className = name;
    el.textContent = 'Sample of ' + name;
    box.append(el);
  }
  document.querySelector('main').append(box);
  return [...names, ...texts];
}"""

RUN_AXE = """(tags) => axe.run(document, {
  runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact,
  nodes: v.nodes.map(n => ({
    target: n.target.join(' '),
    // "Fix any of the following:" and then what is wrong, a line each.
    summary: (n.failureSummary || '').split('\\n').slice(1).map(line => line.trim()).join(' / '),
  })),
})))"""


@dataclass
class TeamData:
    """The sources of a team that has every kind of row, by kind."""

    pools: dict[str, Source]
    fake: Source
    market: Source
    exchanger: Source

    def paths(self) -> list[str]:
        """Every page of the app a signed-in owner reaches (the sign-in page and a 404 aside)."""
        offline = Worker.objects.filter(source=self.fake).first()
        assert offline is not None
        rule = Rule.objects.filter(team=self.fake.team, kind="hashrate_drop").first()
        assert rule is not None
        btccom, kz, sbi = self.pools["btccom"], self.pools["btcpoolkz"], self.pools["sbicrypto"]
        return [
            "/", "/sources/",
            *(f"/sources/{s.pk}/" for s in (btccom, kz, sbi, self.market, self.exchanger, self.fake)),
            "/workers/", f"/workers/{offline.pk}/",
            "/hashrate/", "/earnings/", "/treasury/", "/pools/",
            *(f"/pools/{s.pk}/" for s in (btccom, kz, sbi)),
            f"/markets/?source={self.market.pk}&product=BTCBRL", f"/exchanger/?source={self.exchanger.pk}",
            "/settings/", "/settings/sources/", "/settings/sources/new/", "/settings/sources/new/btccom/",
            f"/settings/sources/{btccom.pk}/edit/",
            "/settings/members/", "/settings/audit/", "/settings/api-tokens/",
            "/accounts/two-factor/", "/accounts/password/change/",
            "/alerts/", "/alerts/rules/", "/alerts/rules/new/", "/alerts/rules/new/worker_offline/",
            f"/alerts/rules/{rule.pk}/edit/", "/alerts/channels/", "/alerts/silences/",
        ]


def market_source(team: Team) -> Source:
    """A FlowBTC source with a year of candles, trades, an account and a live book, as the
    stream leaves it."""
    source = flowbtc_source(team, "FlowBTC main")
    now = timezone.now()
    seed_market(source, now=now)
    seed_account(source, now=now)
    go_live(source, now=now)
    return source


def seed_team(team: Team, owner: User, pools: list[Source], simulator: SimulatorServer) -> TeamData:
    """Every pool kind polled from the simulator with a day of history, a market with a live
    book, a polled btcchange24 partner account, alerts in every state, a pending invitation,
    an API token."""
    seed_day_of_samples(pools)
    exchanger = source_create(team=team, kind="btcchange24", label="btcchange24 partner",
                              base_url=simulator.base_url("btcchange24"),
                              credentials={"api_key": btcchange24.API_KEY},
                              options={"export_code": btcchange24.EXPORT_CODE})
    run = source_poll(source_id=exchanger.pk)
    assert run is not None and run.ok, run.message if run else "skipped"
    fake = seed_every_kind_of_row(team)
    invitation_create(team=team, email="dana@example.com", role="viewer",
                      accept_url=lambda token: f"/invitations/{token}/", actor=owner)
    apitoken_create(team=team, name="Grafana", actor=owner)
    return TeamData(pools={s.kind: s for s in reversed(pools)}, fake=fake,
                    market=market_source(team), exchanger=exchanger)


def new_context(browser: Any, *, theme: str, width: int = 1440) -> Any:
    """A context whose every page has axe-core. The app's policy stays as strict as it is:
    the test's context alone is told to look past it."""
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=theme,
                                  locale="en-US", bypass_csp=True)
    context.add_init_script(path=str(AXE))
    return context


def sign_in(page: Any, base_url: str, username: str = "alice") -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now."""
    page.wait_for_function(CHARTS_DRAWN)
    page.evaluate(OPEN_CHART_TABLES)
    return page.evaluate(RUN_AXE, WCAG_21_AA)  # type: ignore[no-any-return]


def report(violations: list[dict[str, Any]], *, path: str, theme: str) -> list[str]:
    return [f"{v['id']} ({v['impact']}) on {path}, {theme} theme: {node['target']}: {node['summary'].strip()}"
            for v in violations for node in v["nodes"]]

