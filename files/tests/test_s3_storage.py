"""S3 storage against a real S3 server (Ceph RADOS Gateway in the CI leg: `.ci/ceph.sh run`).

Skipped unless S3_ENDPOINT_URL and S3_BUCKET are set. The fault tests at the end need no server:
they point the storage at a closed port.
"""

from __future__ import annotations

import io
import json
import os
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from wagtail.models import Collection

from files.models import PortalDocument
from files.storage import bucket_storage
from files.tests import malicious
from kb.selectors import download_url
from kb.services import Audience, FileSpec
from kb.tests.factories import make_item
from permissions.tests.factories import OrganizationFactory, RegionFactory

pytestmark = pytest.mark.django_db

needs_s3 = pytest.mark.skipif(
    not (os.environ.get("S3_ENDPOINT_URL") and os.environ.get("S3_BUCKET")),
    reason="no S3 server (set S3_ENDPOINT_URL and S3_BUCKET, or run .ci/ceph.sh run ...)",
)


def s3_client(*, secret: str | None = None, access: str | None = None):
    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT_URL"],
        region_name=os.environ.get("S3_REGION") or "us-east-1",
        aws_access_key_id=access or os.environ["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or os.environ["S3_SECRET_ACCESS_KEY"],
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"mode": "standard", "max_attempts": 1},
        ),
    )


@pytest.fixture
def editor_client(client, django_user_model):
    editor = django_user_model.objects.create_superuser(email="eva@vendor.example", password="x")
    client.force_login(editor)
    return client


def _download_url(page, document) -> str:
    return download_url(page, document)


# ------------------------------------------------------------------------------ real server


@needs_s3
@pytest.mark.s3
def test_wrong_secret_and_wrong_key_are_refused():
    bucket = os.environ["S3_BUCKET"]
    s3_client().head_bucket(Bucket=bucket)  # the right credentials work
    with pytest.raises(ClientError) as caught:
        s3_client(secret="not-the-secret").list_objects_v2(Bucket=bucket)
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as caught:
        s3_client(access="NOSUCHACCESSKEY00000").list_objects_v2(Bucket=bucket)
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"


@needs_s3
@pytest.mark.s3
def test_portal_storage_with_a_wrong_secret_cannot_write(settings):
    settings.PORTAL_S3 = {**settings.PORTAL_S3, "secret_key": "wrong", "max_attempts": 1}
    with pytest.raises(ClientError):
        bucket_storage(None).save("documents/never.txt", io.BytesIO(b"x"))
    settings.PORTAL_S3 = {**settings.PORTAL_S3, "secret_key": os.environ["S3_SECRET_ACCESS_KEY"]}
    assert not bucket_storage(None).exists("documents/never.txt")


@needs_s3
@pytest.mark.s3
def test_objects_are_private_and_downloads_are_presigned(portal, editor_client):
    page = make_item(key="s3-doc", files=[FileSpec(name="sheet.pdf", content=malicious.pdf())])
    document = page.specific.attachments.get().document
    key = document.file.name
    head = s3_client().head_object(Bucket=settings.PORTAL_S3["bucket"], Key=key)
    assert head["ContentLength"] == len(malicious.pdf())
    # Never public-read: no ACL grant beyond the owner, and an unsigned GET is refused.
    acl = s3_client().get_object_acl(Bucket=settings.PORTAL_S3["bucket"], Key=key)
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    plain = f"{os.environ['S3_ENDPOINT_URL']}/{settings.PORTAL_S3['bucket']}/{key}"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(plain)  # noqa: S310 - http to the local test server
    assert caught.value.code == 403

    # Permission first: an anonymous visitor gets a 404 and no URL.
    response = Client().get(_download_url(page, document))
    assert response.status_code == 404 and "Location" not in response

    response = editor_client.get(_download_url(page, document))
    assert response.status_code == 302
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert int(query["X-Amz-Expires"][0]) <= 60
    assert "X-Amz-Signature" in query
    with urllib.request.urlopen(location) as answer:  # noqa: S310
        assert answer.read() == malicious.pdf()
        assert answer.headers["Content-Disposition"].startswith("attachment")
        # The stored name's random component is not offered to the downloader.
        assert 'filename="sheet.pdf"' in answer.headers["Content-Disposition"]
    # Wagtail's own document URL: its hook asks the policy, then redirects to a presigned URL.
    served = reverse("wagtaildocs_serve", args=[document.pk, document.filename])
    assert Client().get(served).status_code == 404
    response = editor_client.get(served)
    assert response.status_code == 302 and "X-Amz-Signature=" in response["Location"]
    # A tampered signature is refused by the server.
    tampered = location.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(tampered)  # noqa: S310
    assert caught.value.code == 403


@needs_s3
@pytest.mark.s3
def test_admin_upload_goes_to_s3_and_refusals_store_nothing(editor_client):
    before = {o["Key"] for o in _objects(settings.PORTAL_S3["bucket"])}
    response = editor_client.post(
        reverse("wagtaildocs:add"),
        {
            "title": "Bad",
            "collection": Collection.get_first_root_node().pk,
            "file": SimpleUploadedFile("bad.pdf", malicious.zip_archive({"a": b"b"})),
        },
    )
    assert response.status_code == 200 and not PortalDocument.objects.exists()
    assert {o["Key"] for o in _objects(settings.PORTAL_S3["bucket"])} == before
    response = editor_client.post(
        reverse("wagtaildocs:add"),
        {
            "title": "Good",
            "collection": Collection.get_first_root_node().pk,
            "file": SimpleUploadedFile("good.pdf", malicious.pdf()),
        },
    )
    assert response.status_code == 302
    document = PortalDocument.objects.get()
    assert document.file.name in {o["Key"] for o in _objects(settings.PORTAL_S3["bucket"])}


def _objects(bucket: str) -> list[dict]:
    return s3_client().list_objects_v2(Bucket=bucket).get("Contents", [])


@needs_s3
@pytest.mark.s3
def test_large_uploads_stream_in_parts():
    from django.core.files.uploadedfile import TemporaryUploadedFile

    size = 24 * 1024 * 1024
    # In memory (parts buffered) and on disk (Django's temporary upload file: upload_file).
    name = default_storage.save("documents/large.bin", File(io.BytesIO(b"\x01" * size)))
    upload = TemporaryUploadedFile("big.bin", "application/octet-stream", size, None)
    for _ in range(24):
        upload.write(b"\x02" * 1024 * 1024)
    upload.seek(0)
    disk_name = default_storage.save("documents/big.bin", upload)
    try:
        assert default_storage.size(name) == size
        assert default_storage.size(disk_name) == size
        with default_storage.open(disk_name, "rb") as handle:
            assert handle.read(4) == b"\x02" * 4
    finally:
        default_storage.delete(name)
        default_storage.delete(disk_name)
        upload.close()


@needs_s3
@pytest.mark.s3
def test_residency_buckets_on_s3(portal, settings):
    regions = json.loads(os.environ.get("PORTAL_STORAGE_REGIONS") or "{}")
    if "emea" not in regions:
        pytest.skip("no emea bucket in PORTAL_STORAGE_REGIONS")
    emea = RegionFactory(key="emea")
    page = make_item(
        key="s3-emea",
        audience=Audience(regions=[emea]),
        files=[FileSpec(name="eu.pdf", content=malicious.pdf("eu"))],
    )
    document = page.specific.attachments.get().document
    assert document.file.name.startswith("regions/emea/documents/eu")
    key = document.file.name.removeprefix("regions/emea/")
    s3_client().head_object(Bucket=regions["emea"]["bucket"], Key=key)
    with pytest.raises(ClientError):
        s3_client().head_object(Bucket=settings.PORTAL_S3["bucket"], Key=key)

    org = OrganizationFactory(region=emea)
    from permissions.services import organization_set_logo

    organization_set_logo(organization=org, name="logo.png", content=malicious.image())
    logo_key = org.logo.name.removeprefix("regions/emea/")
    s3_client().head_object(Bucket=regions["emea"]["bucket"], Key=logo_key)


# ---------------------------------------------------------------------- faults (no server)


def _point_at_closed_port(settings) -> None:
    settings.PORTAL_S3 = {
        "bucket": "portal-down",
        "endpoint_url": "http://127.0.0.1:9",
        "region": "us-east-1",
        "access_key": "AKIAFAULTTEST0000000",
        "secret_key": "fault-test-secret",
        "addressing_style": "path",
        "presign_seconds": 60,
        "max_attempts": 2,
        "connect_timeout": 0.5,
        "read_timeout": 1.0,
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "files.storage.RoutingStorage"},
    }


def test_upload_with_s3_down_answers_503_and_writes_nothing(portal, editor_client, settings):
    _point_at_closed_port(settings)
    response = editor_client.post(
        reverse("wagtaildocs:add"),
        {
            "title": "Upload",
            "collection": Collection.get_first_root_node().pk,
            "file": SimpleUploadedFile("ok.pdf", malicious.pdf()),
        },
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert b"try again" in response.content
    assert not PortalDocument.objects.exists()


def test_download_with_s3_down_answers_503(portal, editor_client, settings):
    page = make_item(key="down", files=[FileSpec(name="d.pdf", content=malicious.pdf())])
    document = page.specific.attachments.get().document
    _point_at_closed_port(settings)
    response = editor_client.get(_download_url(page, document))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["X-Portal-Unavailable"] == "storage"  # a designed 503, not a raw error
    assert b"File storage is unavailable" in response.content


@needs_s3
@pytest.mark.s3
def test_residency_move_and_orphans_on_s3(portal, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    regions = json.loads(os.environ.get("PORTAL_STORAGE_REGIONS") or "{}")
    if not {"emea", "apac"} <= set(regions):
        pytest.skip("needs emea and apac buckets in PORTAL_STORAGE_REGIONS")
    emea, apac = RegionFactory(key="emea"), RegionFactory(key="apac")
    page = make_item(
        key="s3-move",
        audience=Audience(regions=[apac]),
        files=[FileSpec(name="mv.pdf", content=malicious.pdf("mv"))],
    )
    document = page.specific.attachments.get().document
    old_key = document.file.name.removeprefix("regions/apac/")
    page.audience_regions = [emea]
    page.save()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("storage_residency", "--move", stdout=out)
    assert "1 moved" in out.getvalue()
    document.refresh_from_db()
    assert document.file.name.startswith("regions/emea/documents/mv")
    new_key = document.file.name.removeprefix("regions/emea/")
    assert s3_client().get_object(Bucket=regions["emea"]["bucket"], Key=new_key)[
        "Body"
    ].read() == malicious.pdf("mv")
    with pytest.raises(ClientError):
        s3_client().head_object(Bucket=regions["apac"]["bucket"], Key=old_key)

    # An object without a row is an orphan (kept while young, deleted with --min-age 0).
    s3_client().put_object(Bucket=regions["apac"]["bucket"], Key="documents/stray.bin", Body=b"x")
    out = io.StringIO()
    call_command("storage_orphans", stdout=out)
    assert "regions/apac/documents/stray.bin" in out.getvalue()
    assert document.file.name not in out.getvalue()
    call_command("storage_orphans", "--delete", "--min-age", "0", stdout=io.StringIO())
    with pytest.raises(ClientError):
        s3_client().head_object(Bucket=regions["apac"]["bucket"], Key="documents/stray.bin")
    assert default_storage.exists(document.file.name)


# ------------------------------------------------------------- requests per upload/download


def _count_calls(storage, operation: str) -> list[str]:
    """Record every ``operation`` (e.g. "HeadObject") the storage's client sends from now on."""
    calls: list[str] = []
    storage.connection.meta.client.meta.events.register(
        f"before-call.s3.{operation}", lambda **kwargs: calls.append(operation)
    )
    return calls


@needs_s3
@pytest.mark.s3
def test_an_upload_sends_no_head_and_never_overwrites():
    storage = bucket_storage(None)
    heads = _count_calls(storage, "HeadObject")
    first = default_storage.save("documents/same.txt", io.BytesIO(b"first"))
    second = default_storage.save("documents/same.txt", io.BytesIO(b"second"))
    try:
        assert heads == []  # the name is unique by construction, not probed
        assert first != second
        assert first.startswith("documents/same_") and first.endswith(".txt")
        with default_storage.open(first, "rb") as handle:
            assert handle.read() == b"first"
        with default_storage.open(second, "rb") as handle:
            assert handle.read() == b"second"
    finally:
        default_storage.delete(first)
        default_storage.delete(second)


@needs_s3
@pytest.mark.s3
def test_downloads_head_only_when_the_bucket_has_not_answered_lately(portal, editor_client):
    from files.storage import forget_store_health

    page = make_item(key="s3-heads", files=[FileSpec(name="h.pdf", content=malicious.pdf())])
    document = page.specific.attachments.get().document
    forget_store_health()
    heads = _count_calls(bucket_storage(None), "HeadObject")
    for _ in range(3):
        assert editor_client.get(_download_url(page, document)).status_code == 302
    assert heads == ["HeadObject"]  # the first download checked the store, the next two not

    # A missing object found by that check is a 404 (not an S3 error page).
    bucket_storage(None).delete(document.file.name)
    forget_store_health()
    assert editor_client.get(_download_url(page, document)).status_code == 404
