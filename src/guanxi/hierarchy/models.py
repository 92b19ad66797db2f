"""The hierarchy's configuration (one policy row, edited in the admin) and the bond records.

The measures themselves are computed at each scoring run and kept on ``scoring.CustomerScore``
(so every run's standing is kept and migration between runs can be counted); what each rule does
is in ``guanxi.analytics.relationship`` and ``docs/hierarchy.md``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from guanxi.analytics.config import ConfigError
from guanxi.analytics.relationship import RelationshipPolicy
from guanxi.core.models import TimeStampedModel
from guanxi.hierarchy.choices import BOND_KIND_OF, BondInstrument, BondKind

_DEFAULTS = RelationshipPolicy()
_SHARE = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class HierarchyPolicy(models.Model):
    """The thresholds of the level, segment and foundation rules; there is one row (pk 1).

    Each scoring run copies the policy it used into ``ScoringRun.policy``, so a later change does
    not rewrite how an old run was judged.
    """

    level_window_days = models.PositiveIntegerField(
        _("level window (days)"),
        default=_DEFAULTS.level_window_days,
        help_text=_("The actual level is judged from the interactions of this many past days."),
    )
    follow_up_days = models.PositiveIntegerField(
        _("follow-up within (days)"),
        default=_DEFAULTS.follow_up_days,
        help_text=_("A purchase counts as followed up if the company called back within this."),
    )
    accountable_min_share = models.FloatField(
        _("accountable: share of purchases followed up"),
        default=_DEFAULTS.accountable_min_share,
        validators=_SHARE,
    )
    proactive_cadence_days = models.PositiveIntegerField(
        _("proactive cadence (days)"),
        default=_DEFAULTS.proactive_cadence_days,
        help_text=_("The window is cut into periods of this length."),
    )
    proactive_min_period_share = models.FloatField(
        _("proactive: share of periods with advice or offers"),
        default=_DEFAULTS.proactive_min_period_share,
        validators=_SHARE,
    )
    partnership_min_joint_work = models.PositiveIntegerField(
        _("partnership: joint-work interactions"),
        default=_DEFAULTS.partnership_min_joint_work,
    )
    segment_by = models.CharField(
        _("segment by"),
        max_length=64,
        default=_DEFAULTS.segment_by,
        help_text=_(
            "Comma-separated dimensions that define a segment: customer_type, abc_class, region."
        ),
    )
    many_min_share = models.FloatField(
        _("many customers: segment share at least"),
        default=_DEFAULTS.many_min_share,
        validators=_SHARE,
    )
    few_max_share = models.FloatField(
        _("few customers: segment share at most"),
        default=_DEFAULTS.few_max_share,
        validators=_SHARE,
    )
    high_margin_ratio = models.FloatField(
        _("high margin: profit per customer at least × average"),
        default=_DEFAULTS.high_margin_ratio,
        validators=[MinValueValidator(0.0)],
    )
    low_margin_ratio = models.FloatField(
        _("low margin: profit per customer below × average"),
        default=_DEFAULTS.low_margin_ratio,
        validators=[MinValueValidator(0.0)],
    )
    health_window_days = models.PositiveIntegerField(
        _("foundation window (days)"), default=_DEFAULTS.health_window_days
    )
    on_time_min_share = models.FloatField(
        _("on-time deliveries at least"), default=_DEFAULTS.on_time_min_share, validators=_SHARE
    )
    return_max_share = models.FloatField(
        _("returned orders at most"), default=_DEFAULTS.return_max_share, validators=_SHARE
    )
    late_complaints_max = models.PositiveIntegerField(
        _("complaints resolved late at most"), default=_DEFAULTS.late_complaints_max
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("hierarchy policy")
        verbose_name_plural = _("hierarchy policy")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="hierarchy_policy_single")]

    def __str__(self) -> str:
        return str(_("hierarchy policy"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "HierarchyPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def to_policy(self) -> RelationshipPolicy:
        names = RelationshipPolicy.__dataclass_fields__
        return RelationshipPolicy.from_dict({name: getattr(self, name) for name in names})

    def clean(self) -> None:
        try:
            self.to_policy()
        except ConfigError as exc:
            raise ValidationError(str(exc)) from exc


class Bond(TimeStampedModel):
    """Something that ties a customer to the company: financial, social or structural (联系)."""

    customer = models.ForeignKey(
        "parties.Customer",
        on_delete=models.CASCADE,
        related_name="bonds",
        verbose_name=_("customer"),
    )
    instrument = models.CharField(_("instrument"), max_length=24, choices=BondInstrument.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=BondKind.choices, editable=False)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("bond")
        verbose_name_plural = _("bonds")
        ordering = ["customer_id", "started_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="bond_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(kind__in=BondKind.values), name="bond_kind_known"),
        ]
        indexes = [models.Index(fields=["customer", "kind"], name="bond_customer_kind")]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} ({self.customer_id})"

    def save(self, *args, **kwargs) -> None:
        self.kind = BOND_KIND_OF[self.instrument]
        super().save(*args, **kwargs)
