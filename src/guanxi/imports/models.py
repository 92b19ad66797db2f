"""Files uploaded through the Imports page: checked first (a dry run), then imported on request."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UploadStatus(models.TextChoices):
    UPLOADED = "uploaded", _("uploaded")
    CHECKING = "checking", _("checking")
    CHECKED = "checked", _("checked")
    QUEUED = "queued", _("waiting to import")
    IMPORTING = "importing", _("importing")
    IMPORTED = "imported", _("imported")
    FAILED = "failed", _("failed")


class ImportUpload(models.Model):
    """One uploaded file and what its check and its import found.

    The file itself lives under ``settings.IMPORT_UPLOAD_DIR`` (never served as a static or media
    file: it holds personal data) and is deleted once it has been imported. ``preview`` and
    ``outcome`` hold the summaries of the dry run and of the import: rows, counts per table, the
    error count, the first errors (row, column, value, message) and the ignored columns.
    """

    entity = models.CharField(_("what the file holds"), max_length=32)
    original_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=255, unique=True, editable=False)
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=UploadStatus.choices, default=UploadStatus.UPLOADED
    )
    preview = models.JSONField(_("check result"), default=dict, blank=True)
    outcome = models.JSONField(_("import result"), default=dict, blank=True)
    failure = models.TextField(_("failure"), blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import upload")
        verbose_name_plural = _("import uploads")
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=UploadStatus.values), name="import_upload_status"
            )
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def entity_label(self) -> str:
        from guanxi.imports.schemas import SCHEMAS  # the schemas import every app's models

        schema = SCHEMAS.get(self.entity)
        return str(schema.label) if schema else self.entity

    @property
    def busy(self) -> bool:
        return self.status in (
            UploadStatus.UPLOADED,
            UploadStatus.CHECKING,
            UploadStatus.QUEUED,
            UploadStatus.IMPORTING,
        )

    @property
    def can_import(self) -> bool:
        return self.status == UploadStatus.CHECKED and self.preview.get("error_count") == 0
