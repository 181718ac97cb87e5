from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

from dashboard import api, auth, health, views, views_connection, views_two_factor

urlpatterns = [
    # Browsers (and the admin, which links no icon) ask for /favicon.ico on their own.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True), name="favicon"),
    path("", views.overview, name="overview"),
    path("sources/", views.sources, name="sources"),
    path("sources/<int:pk>/", views.source_detail, name="source_detail"),
    path("sources/<int:pk>/poll/", views.source_poll_now, name="source_poll_now"),
    path("team/switch/", views.team_switch, name="team_switch"),
    path("settings/", views.settings_team, name="settings_team"),
    path("settings/sources/", views.settings_sources, name="settings_sources"),
    path("settings/sources/new/", views.source_add_choose, name="source_add_choose"),
    path("settings/sources/new/<slug:kind>/", views.source_add, name="source_add"),
    path("settings/sources/new/<slug:kind>/test/", views_connection.source_add_test,
         name="source_add_test"),
    path("settings/sources/<int:pk>/edit/", views.source_edit, name="source_edit"),
    path("settings/sources/<int:pk>/test/", views_connection.source_edit_test,
         name="source_edit_test"),
    path("settings/sources/<int:pk>/toggle/", views.source_toggle, name="source_toggle"),
    path("settings/sources/<int:pk>/delete/", views.source_delete, name="source_delete"),
    path("accounts/login/", auth.SignInView.as_view(), name="login"),
    path("accounts/login/code/", auth.signin_code, name="login_code"),
    path("accounts/two-factor/", views_two_factor.two_factor, name="two_factor"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/sources", api.sources, name="api_sources"),
    path("admin/", admin.site.urls),
    path("", include("dashboard.urls_team")),
    path("", include("pools.urls")),
    path("", include("exchanges.urls")),
    path("", include("alerts.urls")),
    path("", include("treasury.urls")),
    path("", include("metrics.urls")),
]
