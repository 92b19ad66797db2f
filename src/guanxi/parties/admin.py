from django.contrib import admin

from guanxi.parties.models import Contact, Customer, Tag


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["external_id", "name", "job_title", "phone", "email", "is_primary"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "name",
        "customer_type",
        "owner",
        "region",
        "marketing_consent",
        "is_active",
    ]
    list_select_related = ["owner"]
    list_filter = ["customer_type", "is_active", "marketing_consent", "region"]
    search_fields = ["external_id", "name", "phone", "email"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["tags"]
    inlines = [ContactInline]
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "customer", "job_title", "is_primary"]
    list_select_related = ["customer"]
    search_fields = ["external_id", "name", "customer__name"]
    raw_id_fields = ["customer"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]
