"""The Imports page's workflow: store an upload, check it (a dry run), import it, report progress.

``upload_create`` stores the file and enqueues its check; ``upload_check`` and ``upload_import``
run ``import_run`` (dry run, then for real) and keep a JSON summary on the ``ImportUpload``.
Both run in the background worker (``imports.tasks``) because a large file takes minutes.

Progress is written to a small file beside the upload, not to the database: the import holds its
transaction open until it ends (all or nothing), and on SQLite that transaction holds the only
write lock, so a progress row could neither be written nor seen before the end.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import GuanxiError
from guanxi.core.services import event_record
from guanxi.imports.formats import FORMATS, ImportFileError
from guanxi.imports.models import ImportUpload, UploadStatus
from guanxi.imports.schemas import ENTITIES
from guanxi.imports.services import ImportResult, import_run

ERRORS_KEPT = 1000  # the first errors kept for the page and the download; the count is exact


def upload_path(upload: ImportUpload) -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR) / upload.stored_name


def _progress_path(upload: ImportUpload) -> Path:
    return upload_path(upload).with_suffix(".progress")


def upload_progress(upload: ImportUpload) -> float | None:
    """The share (0–1) of the file the running check or import has read; None if unknown."""
    try:
        return float(json.loads(_progress_path(upload).read_text())["share"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _progress_writer(upload: ImportUpload):
    path = _progress_path(upload)
    last = [-1.0]

    def progress(done: int, total: int | None) -> None:
        if not total:
            return
        share = min(1.0, done / total)
        if share - last[0] >= 0.01:  # at most a hundred writes per run
            last[0] = share
            path.write_text(json.dumps({"share": share}))

    return progress


def upload_create(*, entity: str, file: UploadedFile, actor: Any) -> ImportUpload:
    """Store ``file`` for ``entity`` and enqueue its check; refuses unknown entities and formats."""
    if entity not in ENTITIES:
        raise GuanxiError(
            _("Unknown entity '%(entity)s'; choose one of: %(entities)s.")
            % {"entity": entity, "entities": ", ".join(ENTITIES)},
            field="entity",
        )
    suffix = Path(file.name or "").suffix.lower()
    if suffix.lstrip(".") not in FORMATS:
        raise GuanxiError(
            _("%(name)s is not a CSV or XLSX file; save it as .csv or .xlsx and upload it again.")
            % {"name": file.name},
            field="file",
        )
    if file.size > settings.IMPORT_UPLOAD_MAX_BYTES:
        raise GuanxiError(
            _(
                "%(name)s is larger than %(limit)s MB; split it, or import it on the server with "
                "“guanxi import”."
            )
            % {"name": file.name, "limit": settings.IMPORT_UPLOAD_MAX_BYTES // (1024 * 1024)},
            field="file",
        )
    directory = Path(settings.IMPORT_UPLOAD_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = f"{uuid.uuid4().hex}{suffix}"
    with open(directory / stored_name, "wb") as out:
        for chunk in file.chunks():
            out.write(chunk)
    with transaction.atomic():
        upload = ImportUpload.objects.create(
            entity=entity,
            original_name=Path(file.name).name[:255],
            stored_name=stored_name,
            size_bytes=file.size,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        event_record(
            kind="import.uploaded",
            actor=actor,
            subject=upload,
            data={"entity": entity, "file": upload.original_name, "bytes": file.size},
        )
        from guanxi.imports.tasks import check_upload

        transaction.on_commit(lambda: check_upload.enqueue(upload.pk))
    return upload


def _summary(result: ImportResult) -> dict[str, Any]:
    return {
        "rows": result.rows,
        "format": result.format,
        "encoding": result.encoding,
        "counts": {table: counts.as_dict() for table, counts in result.counts.items()},
        "error_count": result.error_count,
        "errors": [
            {"row": e.row, "column": e.column, "value": e.value, "message": e.message}
            for e in result.errors[:ERRORS_KEPT]
        ],
        "ignored_columns": list(result.ignored_columns),
    }


def _claim(upload_id: int, *, from_status: str, to_status: str) -> ImportUpload | None:
    """Move the upload to ``to_status`` if it is in ``from_status`` (one worker wins)."""
    with transaction.atomic():
        claimed = ImportUpload.objects.filter(pk=upload_id, status=from_status).update(
            status=to_status
        )
    return ImportUpload.objects.get(pk=upload_id) if claimed else None


def _run(upload: ImportUpload, *, dry_run: bool, actor: Any) -> ImportResult | str:
    """``import_run`` over the stored file; a file-level problem comes back as its message."""
    try:
        return import_run(
            entity=upload.entity,
            path=upload_path(upload),
            dry_run=dry_run,
            actor=actor,
            progress=_progress_writer(upload),
            max_errors=ERRORS_KEPT,
        )
    except (ImportFileError, GuanxiError) as error:
        return error.message
    finally:
        _progress_path(upload).unlink(missing_ok=True)


def upload_check(*, upload_id: int) -> ImportUpload | None:
    """Dry-run the upload: count what it would change and list its errors; writes nothing."""
    upload = _claim(upload_id, from_status=UploadStatus.UPLOADED, to_status=UploadStatus.CHECKING)
    if upload is None:
        return None
    outcome = _run(upload, dry_run=True, actor=upload.uploaded_by)
    if isinstance(outcome, str):
        upload.status, upload.failure = UploadStatus.FAILED, outcome
    else:
        upload.status, upload.preview = UploadStatus.CHECKED, _summary(outcome)
    upload.save(update_fields=["status", "failure", "preview"])
    return upload


def upload_import_request(*, upload: ImportUpload, actor: Any) -> ImportUpload:
    """Enqueue the import of a checked upload without errors."""
    if not upload.can_import:
        raise GuanxiError(
            _(
                "Only a checked file without errors can be imported; correct the file and upload "
                "it again."
            ),
            field="upload",
        )
    from guanxi.imports.tasks import import_upload

    with transaction.atomic():
        # From CHECKED only, in one statement: a second click (or a second manager) queues
        # nothing more, and the page follows the queued import at once.
        queued = ImportUpload.objects.filter(pk=upload.pk, status=UploadStatus.CHECKED).update(
            status=UploadStatus.QUEUED,
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if not queued:
            raise GuanxiError(_("This file is already being imported."), field="upload")
        event_record(
            kind="import.requested",
            actor=actor,
            subject=upload,
            data={"entity": upload.entity, "file": upload.original_name},
        )
        transaction.on_commit(lambda: import_upload.enqueue(upload.pk))
    upload.refresh_from_db()
    return upload


def upload_import(*, upload_id: int) -> ImportUpload | None:
    """Import the upload for real (every row is validated again), then delete the file."""
    upload = _claim(upload_id, from_status=UploadStatus.QUEUED, to_status=UploadStatus.IMPORTING)
    if upload is None:
        return None
    outcome = _run(upload, dry_run=False, actor=upload.imported_by)
    if isinstance(outcome, str):
        upload.status, upload.failure = UploadStatus.FAILED, outcome
    elif not outcome.ok:
        # The data changed between the check and the import (say, a product was deleted).
        upload.status, upload.outcome = UploadStatus.FAILED, _summary(outcome)
        upload.failure = _("The import found errors the check had not; nothing was written.")
    else:
        upload.status, upload.outcome = UploadStatus.IMPORTED, _summary(outcome)
        upload.imported_at = timezone.now()
        upload_path(upload).unlink(missing_ok=True)
    upload.save(update_fields=["status", "failure", "outcome", "imported_at"])
    return upload
