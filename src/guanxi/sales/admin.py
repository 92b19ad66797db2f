from django.contrib import admin

from guanxi.sales.models import Order, OrderLine, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "unit_price_cents", "unit_cost_cents", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["sku", "name"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["external_id", "customer", "placed_at", "channel", "status"]
    list_select_related = ["customer"]
    list_filter = ["status", "channel"]
    search_fields = ["external_id", "customer__name", "customer__external_id"]
    date_hierarchy = "placed_at"
    raw_id_fields = ["customer"]
    inlines = [OrderLineInline]
    show_full_result_count = False
