"""The Imports page's background work: check an upload, then import it (``imports.uploads``)."""

from django.tasks import task


@task()
def check_upload(upload_id: int) -> str | None:
    from guanxi.imports.uploads import upload_check

    upload = upload_check(upload_id=upload_id)
    return upload.status if upload else None


@task()
def import_upload(upload_id: int) -> str | None:
    from guanxi.imports.uploads import upload_import

    upload = upload_import(upload_id=upload_id)
    return upload.status if upload else None
