from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import views_team, views_two_factor

urlpatterns = [
    path("settings/members/", views_team.settings_members, name="settings_members"),
    path("settings/members/invite/", views_team.settings_members_invite,
         name="settings_members_invite"),
    path("settings/members/leave/", views_team.settings_member_leave,
         name="settings_member_leave"),
    path("settings/members/<int:pk>/two-factor-reset/",
         views_two_factor.settings_member_2fa_reset, name="settings_member_2fa_reset"),
    path("settings/members/<int:pk>/role/", views_team.settings_member_role,
         name="settings_member_role"),
    path("settings/members/<int:pk>/remove/", views_team.settings_member_remove,
         name="settings_member_remove"),
    path("settings/invitations/<int:pk>/revoke/", views_team.settings_invitation_revoke,
         name="settings_invitation_revoke"),
    path("invitations/<str:token>/", views_team.invitation_accept, name="invitation_accept"),
    path("settings/audit/", views_team.settings_audit, name="settings_audit"),
    path("settings/api-tokens/", views_team.settings_api_tokens, name="settings_api_tokens"),
    path("settings/api-tokens/<int:pk>/revoke/", views_team.settings_api_token_revoke,
         name="settings_api_token_revoke"),
    path("accounts/password/change/", views_team.PasswordChangeView.as_view(),
         name="password_change"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("accounts/password/reset/", auth_views.PasswordResetView.as_view(),
         name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("accounts/password/reset/<uidb64>/<token>/", views_team.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
]
