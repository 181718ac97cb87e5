from django.urls import path

from metrics import views

urlpatterns = [
    # Prometheus's default metrics_path, without a trailing slash.
    path("metrics", views.metrics, name="metrics"),
]
