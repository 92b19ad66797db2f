"""The Imports page: upload, check (dry run) in the background, see and download errors, import."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guanxi.core.models import Event
from guanxi.imports.models import ImportUpload, UploadStatus
from guanxi.sales.models import Product

pytestmark = pytest.mark.django_db

IMMEDIATE = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "scoring"],
    }
}


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings, tmp_path):
    settings.TASKS = IMMEDIATE
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def manager(django_user_model):
    user = django_user_model.objects.create_user(username="boss", password="pw-123-long!")
    user.groups.add(Group.objects.get(name="manager"))
    return user


def _csv(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


GOOD = [
    ["sku", "name", "unit_price", "unit_cost"],
    ["TEA-9", "Oolong", "88.00", "40.00"],
    ["CUP-9", "Cup", "12.50", "5.00"],
]


def _upload(client, rows, name="products.csv", entity="products", capture=None):
    file = SimpleUploadedFile(name, _csv(rows), content_type="text/csv")
    with capture(execute=True):
        return client.post(reverse("imports:import_list"), {"entity": entity, "file": file})


def test_a_good_file_is_checked_then_imported_on_request(
    client, manager, django_capture_on_commit_callbacks, settings
):
    settings_dir = settings.IMPORT_UPLOAD_DIR
    client.force_login(manager)
    response = _upload(client, GOOD, capture=django_capture_on_commit_callbacks)
    upload = ImportUpload.objects.get()
    assert response["Location"] == reverse("imports:upload_detail", args=[upload.pk])
    assert upload.status == UploadStatus.CHECKED
    assert not Product.objects.filter(sku__in=["TEA-9", "CUP-9"]).exists()  # a check writes nothing
    page = client.get(response["Location"]).content.decode()
    assert "2 rows read." in page
    assert ">Import</button>" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:upload_import", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED
    assert upload.imported_by == manager
    assert Product.objects.get(sku="TEA-9").unit_price_cents == 8800
    assert upload.outcome["counts"]["products"]["created"] == 2
    kinds = set(Event.objects.values_list("kind", flat=True))
    assert {"import.uploaded", "import.requested", "import.completed"} <= kinds
    # The stored file is removed once imported; the summary stays.
    assert not any(settings_dir.iterdir())
    assert "What was written" in client.get(response["Location"]).content.decode()


def test_row_errors_are_listed_downloadable_and_block_the_import(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    bad = [GOOD[0], ["TEA-9", "Oolong", "eighty", "40.00"], ["", "Cup", "12.50", "5.00"]]
    _upload(client, bad, capture=django_capture_on_commit_callbacks)
    upload = ImportUpload.objects.get()
    assert upload.status == UploadStatus.CHECKED
    assert upload.preview["error_count"] == 2
    page = client.get(reverse("imports:upload_detail", args=[upload.pk])).content.decode()
    assert "2 errors: nothing can be imported until they are corrected" in page
    assert ">Import</button>" not in page

    download = client.get(reverse("imports:upload_errors", args=[upload.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "value", "error"]
    assert {(r[0], r[1]) for r in rows[1:]} == {("2", "unit_price"), ("3", "sku")}
    assert Event.objects.filter(kind="import.errors_downloaded", actor=manager).exists()

    client.post(reverse("imports:upload_import", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.status == UploadStatus.CHECKED
    assert not Product.objects.filter(sku="TEA-9").exists()


def test_a_file_level_problem_fails_the_upload_with_its_message(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    _upload(client, [["name"], ["Oolong"]], capture=django_capture_on_commit_callbacks)
    upload = ImportUpload.objects.get()
    assert upload.status == UploadStatus.FAILED
    assert "sku" in upload.failure
    page = client.get(reverse("imports:upload_detail", args=[upload.pk])).content.decode()
    assert upload.failure.split(";")[0] in page


def test_a_file_that_is_not_csv_or_xlsx_is_refused_at_upload(
    client, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    response = _upload(
        client, GOOD, name="products.txt", capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 400
    assert "is not a CSV or XLSX file" in response.content.decode()
    assert not ImportUpload.objects.exists()


def test_the_status_part_polls_while_the_check_waits_for_a_worker(client, manager, settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "scoring"],
        }
    }
    client.force_login(manager)
    file = SimpleUploadedFile("p.csv", _csv(GOOD), content_type="text/csv")
    client.post(reverse("imports:import_list"), {"entity": "products", "file": file})
    upload = ImportUpload.objects.get()
    assert upload.status == UploadStatus.UPLOADED
    part = client.get(
        reverse("imports:upload_detail", args=[upload.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-trigger="every 1s"' in part
    assert "<html" not in part


@pytest.mark.parametrize("role", ["sales", "service", "analyst"])
def test_only_administrators_and_managers_import(client, django_user_model, role):
    user = django_user_model.objects.create_user(username=role, password="pw-123-long!")
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    assert client.get(reverse("imports:import_list")).status_code == 403
    file = SimpleUploadedFile("p.csv", _csv(GOOD), content_type="text/csv")
    response = client.post(reverse("imports:import_list"), {"entity": "products", "file": file})
    assert response.status_code == 403
    assert not ImportUpload.objects.exists()


def test_the_upload_list_has_a_bounded_number_of_queries(
    client, manager, django_assert_max_num_queries, settings
):
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "scoring"],
        }
    }
    client.force_login(manager)
    for n in range(12):
        file = SimpleUploadedFile(f"p{n}.csv", _csv(GOOD), content_type="text/csv")
        client.post(reverse("imports:import_list"), {"entity": "products", "file": file})
    with django_assert_max_num_queries(8):
        page = client.get(reverse("imports:import_list"))
    assert page.content.decode().count("p1") >= 1


def test_a_requested_import_is_followed_until_a_worker_takes_it(
    client, manager, django_capture_on_commit_callbacks, settings
):
    client.force_login(manager)
    _upload(client, GOOD, capture=django_capture_on_commit_callbacks)
    upload = ImportUpload.objects.get()
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "scoring"],
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:upload_import", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.status == UploadStatus.QUEUED
    part = client.get(
        reverse("imports:upload_detail", args=[upload.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-trigger="every 1s"' in part
    assert "Waiting for the worker to import the file" in part
    # A second request queues nothing more.
    response = client.post(reverse("imports:upload_import", args=[upload.pk]), follow=True)
    assert "Only a checked file without errors can be imported" in response.content.decode()
    assert Event.objects.filter(kind="import.requested").count() == 1
