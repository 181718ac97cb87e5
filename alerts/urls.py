from django.urls import path

from alerts import api, views

urlpatterns = [
    path("api/v1/alerts", api.alerts, name="api_alerts"),
    # Pages
    path("alerts/", views.alerts_page, name="alerts"),
    path("alerts/rules/", views.rules_page, name="alert_rules"),
    path("alerts/rules/new/", views.rule_add_choose, name="alert_rule_add_choose"),
    path("alerts/rules/new/<slug:kind>/", views.rule_add, name="alert_rule_add"),
    path("alerts/rules/recommended/", views.rules_recommended, name="alert_rules_recommended"),
    path("alerts/rules/<int:pk>/edit/", views.rule_edit, name="alert_rule_edit"),
    path("alerts/rules/<int:pk>/toggle/", views.rule_toggle, name="alert_rule_toggle"),
    path("alerts/rules/<int:pk>/delete/", views.rule_delete, name="alert_rule_delete"),
    path("alerts/channels/", views.channels_page, name="alert_channels"),
    path("alerts/channels/<int:pk>/test/", views.channel_test, name="alert_channel_test"),
    path("alerts/channels/<int:pk>/toggle/", views.channel_toggle, name="alert_channel_toggle"),
    path("alerts/channels/<int:pk>/delete/", views.channel_delete, name="alert_channel_delete"),
    path("alerts/silences/", views.silences_page, name="alert_silences"),
    path("alerts/silences/<int:pk>/end/", views.silence_end, name="alert_silence_end"),
]
