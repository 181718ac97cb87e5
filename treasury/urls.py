from django.urls import path

from treasury import api, views

urlpatterns = [
    path("treasury/", views.treasury, name="treasury"),
    path("treasury/sell/", views.treasury_sell, name="treasury_sell"),
    path("treasury/held/", views.treasury_held, name="treasury_held"),
    path("api/v1/treasury/quote", api.quote, name="api_treasury_quote"),
    path("api/v1/treasury/routes", api.routes, name="api_treasury_routes"),
    path("api/v1/profitability", api.profitability, name="api_profitability"),
]
