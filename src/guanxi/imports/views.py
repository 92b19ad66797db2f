"""The Imports page: upload a CSV or XLSX file, see its check (a dry run), download its errors,
then import it. The check and the import run in the background worker (``imports.tasks``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.choices import Role
from guanxi.core.downloads import csv_lines, csv_response
from guanxi.core.errors import GuanxiError
from guanxi.core.requests import client_ip
from guanxi.core.services import event_record
from guanxi.imports.models import ImportUpload, UploadStatus
from guanxi.imports.schemas import SCHEMAS
from guanxi.imports.uploads import upload_create, upload_import_request, upload_progress
from guanxi.parties.selectors import user_roles
from guanxi.sales.models import OrderLine

PAGE_SIZE = 25
ERRORS_SHOWN = 100
# Imports write across every customer, so only those who answer for all of them may run one.
IMPORT_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def _require_importer(user: Any) -> None:
    if not user_roles(user) & IMPORT_ROLES:
        raise PermissionDenied(_("Only administrators and managers import data."))


class UploadForm(forms.Form):
    entity = forms.ChoiceField(
        label=gettext_lazy("What the file holds"),
        choices=[(name, schema.label) for name, schema in SCHEMAS.items()],
    )
    file = forms.FileField(
        label=gettext_lazy("CSV or XLSX file"),
        help_text=gettext_lazy(
            "The first row names the columns. Nothing is written until you have seen the check "
            "and pressed Import."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


def _columns_help() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "label": schema.label,
            "required": [c.name for c in schema.columns if c.required],
            "optional": [c.name for c in schema.columns if not c.required],
        }
        for name, schema in SCHEMAS.items()
    ]


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """The upload form and the recent uploads."""
    _require_importer(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = upload_create(
                entity=form.cleaned_data["entity"],
                file=form.cleaned_data["file"],
                actor=request.user,
            )
        except GuanxiError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("imports:upload_detail", pk=upload.pk)
    uploads = ImportUpload.objects.select_related("uploaded_by", "imported_by")
    page = Paginator(uploads, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/import_list.html",
        {
            "form": form,
            "page": page,
            "columns_help": _columns_help(),
            "max_mb": settings.IMPORT_UPLOAD_MAX_BYTES // (1024 * 1024),
        },
        status=400 if request.method == "POST" else 200,
    )


def _table_label(name: str) -> str:
    if name in SCHEMAS:
        return str(SCHEMAS[name].label)
    if name == "order_lines":
        return str(OrderLine._meta.verbose_name_plural)
    return name


def _detail_context(upload: ImportUpload) -> dict[str, Any]:
    summary = upload.outcome or upload.preview
    counts = [(_table_label(name), c) for name, c in summary.get("counts", {}).items()]
    errors = summary.get("errors", [])
    progress = upload_progress(upload) if upload.busy else None
    return {
        "upload": upload,
        "summary": summary,
        "counts": counts,
        "entity_label": SCHEMAS[upload.entity].label if upload.entity in SCHEMAS else upload.entity,
        "errors_shown": errors[:ERRORS_SHOWN],
        "errors_more": max(0, summary.get("error_count", 0) - min(len(errors), ERRORS_SHOWN)),
        "progress_percent": round(progress * 100) if progress is not None else None,
        "statuses": UploadStatus,
    }


@login_required
def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One upload: its progress while busy (htmx polls the status part), then its result."""
    _require_importer(request.user)
    upload = get_object_or_404(ImportUpload.objects.select_related("uploaded_by"), pk=pk)
    template = "imports/upload_detail.html"
    if request.htmx:
        template += "#status"
    return render(request, template, _detail_context(upload))


@login_required
@require_POST
def upload_import(request: HttpRequest, pk: int) -> HttpResponse:
    _require_importer(request.user)
    upload = get_object_or_404(ImportUpload, pk=pk)
    try:
        upload_import_request(upload=upload, actor=request.user)
    except GuanxiError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The import has started; this page follows it."))
    return redirect("imports:upload_detail", pk=upload.pk)


@login_required
def upload_errors(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The errors of the check (or of the import) as CSV: row, column, value, what to do."""
    _require_importer(request.user)
    upload = get_object_or_404(ImportUpload, pk=pk)
    summary = upload.outcome or upload.preview
    errors = summary.get("errors", [])
    event_record(
        kind="import.errors_downloaded",
        actor=request.user,
        subject=upload,
        data={"rows": len(errors)},
        ip_address=client_ip(request),
    )
    omitted = summary.get("error_count", 0) - len(errors)
    rows = [[e["row"], e["column"], e["value"], e["message"]] for e in errors]
    if omitted > 0:
        rows.append(["", "", "", _("%(count)s more errors not listed") % {"count": omitted}])
    lines = csv_lines([_("row"), _("column"), _("value"), _("error")], rows)
    return csv_response(lines, filename=f"upload-{upload.pk}-errors.csv")
