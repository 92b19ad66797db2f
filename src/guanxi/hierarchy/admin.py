from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from guanxi.hierarchy.models import Bond, HierarchyPolicy


@admin.register(HierarchyPolicy)
class HierarchyPolicyAdmin(admin.ModelAdmin):
    """One row: the add page is not offered once it exists, and it cannot be deleted."""

    list_display = ["__str__", "segment_by", "level_window_days", "updated_at"]
    fieldsets = [
        (
            _("Actual level"),
            {
                "fields": [
                    "level_window_days",
                    "follow_up_days",
                    "accountable_min_share",
                    "proactive_cadence_days",
                    "proactive_min_period_share",
                    "partnership_min_joint_work",
                ]
            },
        ),
        (
            _("Recommended level (Kotler's matrix)"),
            {
                "fields": [
                    "segment_by",
                    "many_min_share",
                    "few_max_share",
                    "high_margin_ratio",
                    "low_margin_ratio",
                ]
            },
        ),
        (
            _("Foundation health"),
            {
                "fields": [
                    "health_window_days",
                    "on_time_min_share",
                    "return_max_share",
                    "late_complaints_max",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return not HierarchyPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Bond)
class BondAdmin(admin.ModelAdmin):
    list_display = ["customer", "instrument", "kind", "started_on", "ended_on"]
    list_filter = ["kind", "instrument"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    readonly_fields = ["kind", "recorded_by"]
    search_fields = ["customer__name", "customer__external_id"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
