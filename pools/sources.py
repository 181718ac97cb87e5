"""The pool kinds this app serves, registered with the source registry."""

from dashboard.sources import Field, SourceKind, register

BTCCOM = register(SourceKind(
    kind="btccom",
    label="BTC.com pool",
    category="pool",
    client_path="pools.clients.btccom.BtcComClient",
    ingest_path="pools.ingest.pool_snapshot_ingest",
    base_url="https://{region}-pool.api.btc.com",
    credential_sets=((
        Field("access_key", "Access key",
              help="On pool.btc.com, from the sub-account management page."),
        Field("puid", "PUID", help="The sub-account id shown beside the access key."),
    ),),
    options=(
        Field("region", "Region", required=False, choices=("us", "cn", "eu", "sz"), default="us",
              help="The BTC.com node that serves the sub-account."),
    ),
    default_interval=60,
))
