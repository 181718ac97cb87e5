"""The exchange kinds this app serves, registered with the source registry."""

from dashboard.sources import Field, SourceKind, register

FLOWBTC = register(SourceKind(
    kind="flowbtc",
    label="FlowBTC exchange",
    category="exchange",
    client_path="exchanges.clients.flowbtc.FlowBtcClient",
    ingest_path="exchanges.ingest.flowbtc_snapshot_ingest",
    describe_path="exchanges.connection.flowbtc_snapshot_describe",
    base_url="https://publicapi.flowbtc.com.br/v1",
    # Books, tickers, trades and candles are public; a login adds the account's own orders
    # and trades, read by the live stream (never an order placed, changed or cancelled).
    credential_sets=(
        (),
        (
            Field("username", "User name", help="The FlowBTC login; read-only use."),
            Field("password", "Password", help="Kept encrypted; used only to read the account."),
        ),
    ),
    options=(
        Field("products", "Products", required=False,
              help="Comma-separated, e.g. BTCBRL,ETHBRL; empty means all six."),
        Field("depth", "Book depth", required=False, default="10",
              help="Levels a side that each poll reads from the REST book."),
        Field("ws_url", "Gateway URL", required=False, default="wss://api.flowbtc.com.br/WSGateway/",
              help="The WebSocket gateway the live stream (manage.py stream flowbtc) connects to."),
    ),
    default_interval=60,
))

BTCCHANGE24 = register(SourceKind(
    kind="btcchange24",
    label="btcchange24 exchanger",
    category="exchange",
    client_path="exchanges.clients.btcchange24.Btcchange24Client",
    ingest_path="exchanges.ingest.exchanger_snapshot_ingest",
    describe_path="exchanges.connection.exchanger_snapshot_describe",
    base_url="https://www.btcchange24.com",
    # The rate export is public; the partner key adds balance, referred exchanges and clicks.
    credential_sets=(
        (),
        (Field("api_key", "Partner API key", help="From the partner section of your account."),),
    ),
    options=(
        Field("export_code", "Export code",
              help="The :code at the end of your rate export URL (/service/export/xml/:code)."),
        Field("export_format", "Export format", required=False, choices=("xml", "json", "txt"),
              default="xml", help="All three carry the same rates; XML has every field."),
        Field("history_days", "History days", required=False, default="30",
              help="Days of partner exchanges and link clicks the first poll reads."),
    ),
    default_interval=60,
))
