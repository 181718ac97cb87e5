"""What the team holds outside the pools, entered by hand: one amount per coin."""

from __future__ import annotations

from django.db import models

from dashboard.models import Team

DIGITS, PLACES = 28, 12


class HeldCoin(models.Model):
    """Coins the team keeps elsewhere (a wallet, an exchange account), valued beside the
    pools' unpaid balances."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="held_coins")
    coin = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=DIGITS, decimal_places=PLACES)
    note = models.CharField(max_length=200, blank=True, help_text="Where it is held, e.g. cold wallet.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["coin"]
        constraints = [models.UniqueConstraint(fields=["team", "coin"], name="held_coin_team_coin_unique")]

    def __str__(self) -> str:
        return f"{self.amount} {self.coin} held by {self.team_id}"
