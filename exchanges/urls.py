from django.urls import path

from exchanges import api, views_exchanger, views_markets

urlpatterns = [
    path("markets/", views_markets.markets, name="markets"),
    path("exchanger/", views_exchanger.exchanger, name="exchanger"),
    path("api/v1/orderbook", api.orderbook, name="api_orderbook"),
    path("api/v1/ticker", api.ticker, name="api_ticker"),
    path("api/v1/rates", api.rates, name="api_rates"),
]
