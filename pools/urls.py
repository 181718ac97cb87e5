from django.urls import path

from pools import api, views, views_actions

urlpatterns = [
    path("hashrate/", views.hashrate, name="hashrate"),
    path("workers/", views.workers, name="workers"),
    path("workers/<int:pk>/", views.worker_detail, name="worker_detail"),
    path("pools/", views.pool_index, name="pool_index"),
    path("pools/<int:pk>/", views.pool_page, name="pool_page"),
    path("earnings/", views.earnings, name="earnings"),
    path("earnings/earnings.csv", views.earnings_csv, name="earnings_csv"),
    path("earnings/payouts.csv", views.payouts_csv, name="payouts_csv"),
    path("api/v1/hashrate", api.hashrate, name="api_hashrate"),
    path("api/v1/workers", api.workers, name="api_workers"),
    path("api/v1/earnings", api.earnings, name="api_earnings"),
    path("api/v1/payouts", api.payouts, name="api_payouts"),
    path("pools/<int:pk>/actions/", views_actions.source_actions, name="source_actions"),
    path("pools/<int:pk>/actions/confirm/", views_actions.source_action_confirm,
         name="source_action_confirm"),
]
