from django.urls import path

from alerts import api

urlpatterns = [
    path("api/v1/alerts", api.alerts, name="api_alerts"),
]
