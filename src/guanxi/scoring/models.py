"""Scoring runs and the per-customer score snapshots they produce.

Every run is kept: comparing two runs is how migration between levels, stages and classes is seen.
The measures are those of ``guanxi.analytics.pipeline.SCORE_COLUMNS``; their meaning is in
``docs/analytics.md``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.hierarchy.choices import (
    FoundationHealth,
    LevelGap,
    MarginBand,
    PartnershipStage,
    RelationshipLevel,
    SegmentSize,
)
from guanxi.scoring.choices import LifecycleStage, Measure, RunStatus, ValueClass


class ScoringRun(models.Model):
    """One pass of the analytics over all customers (评分批次)."""

    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    config = models.JSONField(_("configuration"), default=dict)
    policy = models.JSONField(
        _("hierarchy policy"),
        default=dict,
        help_text=_("The level, segment and foundation thresholds this run used."),
    )
    metadata = models.JSONField(
        _("model parameters and diagnostics"),
        default=dict,
        blank=True,
        help_text=_("Fitted parameters, log-likelihoods, standard errors, timings, row counts."),
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_s = models.FloatField(_("duration (s)"), null=True, blank=True)
    n_transactions = models.BigIntegerField(_("transactions"), default=0)
    n_customers = models.BigIntegerField(_("customers scored"), default=0)
    progress = models.FloatField(_("progress"), default=0.0)
    step = models.CharField(_("current step"), max_length=32, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="scoring_run_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status=RunStatus.FAILED) | ~Q(error=""),
                name="scoring_run_failure_says_why",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.as_of} {self.status}"


class CustomerScore(models.Model):
    """One customer's measures in one scoring run (客户评分快照)."""

    # Written a million rows per run, so kept lean (docs/decisions/0001-score-tables.md): no
    # single-column indexes — (run, customer) is unique and (customer, run) is indexed — and no
    # database foreign keys: PostgreSQL checks each one per row at commit and locks every
    # referenced customer row to do it, which took minutes for a million scores. Deleting a
    # customer or a run through Django still deletes their scores (on_delete is Django's).
    run = models.ForeignKey(
        ScoringRun,
        on_delete=models.CASCADE,
        related_name="scores",
        verbose_name=_("scoring run"),
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="scores",
        verbose_name=_("customer"),
        db_index=False,
        db_constraint=False,
    )
    first_purchase = models.DateField(_("first purchase"), null=True)
    last_purchase = models.DateField(_("last purchase"), null=True)
    n_orders = models.IntegerField(_("orders"))
    x = models.IntegerField(_("repeat purchases (x)"), null=True)
    t_x = models.FloatField(_("recency (t_x)"), null=True)
    T = models.FloatField(_("age (T)"), null=True)
    revenue_cents = models.BigIntegerField(_("revenue (cents)"))
    profit_cents = models.BigIntegerField(_("profit (cents)"))
    mean_repeat_spend_cents = models.FloatField(_("mean repeat spend (cents)"), null=True)
    interval_mean_days = models.FloatField(_("mean interval (days)"), null=True)
    interval_std_days = models.FloatField(_("interval spread (days)"), null=True)
    spend_recent_cents = models.BigIntegerField(_("recent spend (cents)"))
    spend_previous_cents = models.BigIntegerField(_("previous spend (cents)"))
    spend_trend = models.FloatField(_("spend trend"), null=True)
    days_since_last = models.IntegerField(_("days since last purchase"), null=True)
    overdue_ratio = models.FloatField(_("overdue ratio"), null=True)
    recency_score = models.PositiveSmallIntegerField(_("R score"), null=True)
    frequency_score = models.PositiveSmallIntegerField(_("F score"), null=True)
    monetary_score = models.PositiveSmallIntegerField(_("M score"), null=True)
    rfm_segment = models.CharField(_("RFM segment"), max_length=32, blank=True)
    abc_class = models.CharField(_("value class"), max_length=1, choices=ValueClass.choices)
    cum_profit_share = models.FloatField(_("cumulative profit share"), null=True)
    p_alive = models.FloatField(_("probability alive"), null=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True)
    expected_spend_cents = models.FloatField(_("expected spend (cents)"), null=True)
    clv_cents = models.FloatField(_("customer lifetime value (cents)"), null=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=16, choices=LifecycleStage.choices
    )
    lifecycle_reason = models.CharField(_("lifecycle reason"), max_length=64)
    # The relationship hierarchy (guanxi.analytics.relationship; docs/hierarchy.md).
    actual_level = models.CharField(
        _("actual level"), max_length=16, choices=RelationshipLevel.choices
    )
    level_reason = models.CharField(_("level reason"), max_length=64)
    level_inbound = models.IntegerField(_("customer-initiated contacts"))
    level_purchases_judged = models.IntegerField(_("purchases judged for follow-up"))
    level_purchases_followed = models.IntegerField(_("purchases followed up"))
    level_proactive_periods = models.IntegerField(_("periods with advice or offers"))
    level_joint_work = models.IntegerField(_("joint-work interactions"))
    segment = models.CharField(_("segment"), max_length=100)
    segment_size = models.CharField(_("segment size"), max_length=8, choices=SegmentSize.choices)
    segment_margin = models.CharField(_("segment margin"), max_length=8, choices=MarginBand.choices)
    recommended_level = models.CharField(
        _("recommended level"), max_length=16, choices=RelationshipLevel.choices
    )
    level_gap = models.CharField(_("level gap"), max_length=16, choices=LevelGap.choices)
    partnership_stage = models.CharField(
        _("partnership stage"), max_length=16, choices=PartnershipStage.choices, blank=True
    )
    partnership_stage_customer = models.CharField(
        _("partnership stage (customer's view)"),
        max_length=16,
        choices=PartnershipStage.choices,
        blank=True,
    )
    perception_gap = models.BooleanField(_("perception gap"), default=False)
    foundation_health = models.CharField(
        _("foundation health"), max_length=8, choices=FoundationHealth.choices
    )
    health_reasons = models.CharField(_("foundation reasons"), max_length=64, blank=True)
    deliveries = models.IntegerField(_("deliveries judged"))
    on_time_share = models.FloatField(_("on-time share"), null=True)
    return_share = models.FloatField(_("return share"), null=True)
    complaints_late = models.IntegerField(_("complaints resolved late"))
    health_alert = models.BooleanField(
        _("foundation alert"),
        default=False,
        help_text=_("At risk while at a proactive or partnership level or a high B2B stage."),
    )
    bonds_financial = models.IntegerField(_("financial bonds"))
    bonds_social = models.IntegerField(_("social bonds"))
    bonds_structural = models.IntegerField(_("structural bonds"))

    class Meta:
        verbose_name = _("score snapshot")
        verbose_name_plural = _("score snapshots")
        ordering = ["run_id", "customer_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="score_one_per_run_customer"),
            models.CheckConstraint(
                condition=Q(abc_class__in=ValueClass.values), name="score_abc_class_known"
            ),
            models.CheckConstraint(
                condition=Q(lifecycle_stage__in=LifecycleStage.values),
                name="score_lifecycle_stage_known",
            ),
            models.CheckConstraint(
                condition=Q(p_alive__isnull=True) | Q(p_alive__gte=0, p_alive__lte=1),
                name="score_p_alive_probability",
            ),
        ]
        indexes = [models.Index(fields=["customer", "run"], name="score_customer_run")]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.run_id}"


class ScoreChange(models.Model):
    """A measure of one customer that changed from the previous successful run to this one."""

    run = models.ForeignKey(
        ScoringRun,
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("scoring run"),
        db_index=False,
        db_constraint=False,
    )
    previous_run = models.ForeignKey(
        ScoringRun,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("previous run"),
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="score_changes",
        verbose_name=_("customer"),
        db_index=False,
        db_constraint=False,
    )
    measure = models.CharField(_("measure"), max_length=24, choices=Measure.choices)
    from_value = models.CharField(_("from"), max_length=24, blank=True)
    to_value = models.CharField(_("to"), max_length=24, blank=True)

    class Meta:
        verbose_name = _("score change")
        verbose_name_plural = _("score changes")
        ordering = ["run_id", "customer_id", "measure"]
        indexes = [
            models.Index(fields=["run", "measure"], name="score_change_run_measure"),
            models.Index(fields=["customer", "run"], name="score_change_customer_run"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.measure}: {self.from_value} → {self.to_value}"
