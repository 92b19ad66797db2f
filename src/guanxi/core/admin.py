from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from guanxi.core.forms import AdminSignInForm
from guanxi.core.models import Event, StaffProfile, Team

admin.site.site_header = _("Guanxi administration")
admin.site.site_title = _("Guanxi")
admin.site.index_title = _("Customer relationships")
# The admin's own sign-in page is locked out like ours (guanxi.core.signin).
admin.site.login_form = AdminSignInForm


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "language"]
    list_select_related = ["user", "team"]
    list_filter = ["team", "language"]
    autocomplete_fields = ["user"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: events are an append-only audit trail."""

    list_display = ["occurred_at", "kind", "actor", "customer", "ip_address"]
    list_select_related = ["actor", "customer"]
    list_filter = ["kind"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["customer", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
