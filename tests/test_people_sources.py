"""HR sees how each person is managed (local, CSV, SCIM, SSO) and when it last changed them."""

from __future__ import annotations

from datetime import UTC, datetime

from reviews.extensions import db
from reviews.identity.models import ExternalIdentity
from reviews.people import operations as ops
from reviews.people.models import Person, Role, Source
from tests.conftest import PASSWORD


def test_the_directory_shows_and_filters_by_source(app, client, make_person, login_as) -> None:
    hr = make_person("Hanna HR", role=Role.HR)
    scim = make_person("Sam Synced")
    scim.source = Source.SCIM
    scim.provisioned_at = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    db.session.commit()
    login_as(hr)
    html = client.get("/people").get_data(as_text=True)
    assert "Managed by" in html
    assert "Identity provider (SCIM)" in html
    assert "30 November 2026" in html or "30 Nov 2026" in html
    only = client.get("/people?managed=scim").get_data(as_text=True)
    assert "Sam Synced" in only
    assert "1 person" in only  # Hanna (local) is filtered out; her name stays in the menu
    bad = client.get("/people?managed=carrier-pigeon")
    assert bad.status_code == 400
    assert "managed" in bad.get_data(as_text=True)


def test_employees_see_no_source_column(app, client, make_person, login_as) -> None:
    login_as(make_person("Eve Employee"))
    html = client.get("/people?managed=scim").get_data(as_text=True)
    assert "Managed by" not in html


def test_the_org_import_marks_people_as_csv(app, make_person) -> None:
    hr = make_person("Hanna HR", email="hr@example.com", role=Role.HR, level_key=None)
    data = (
        b"email,name,manager_email,department,level,role\n"
        b"hr@example.com,Hanna HR,,People,,hr\n"
        b"new@example.com,New Person,hr@example.com,People,,employee\n"
    )
    check = ops.check_org_file(data, hr)
    assert not check.errors
    ops.apply_import(check, hr)
    db.session.commit()
    new = db.session.query(Person).filter_by(email="new@example.com").one()
    assert new.source is Source.CSV
    assert new.provisioned_at is not None


def test_the_profile_shows_sign_in_identities_and_source(
    app, client, make_person, login_as
) -> None:
    hr = make_person("Hanna HR", role=Role.HR)
    ada = make_person("Ada Linked")
    db.session.add(
        ExternalIdentity(person_id=ada.id, protocol="oidc", provider="okta", subject="00u1")
    )
    db.session.commit()
    login_as(hr)
    html = client.get(f"/people/{ada.id}").get_data(as_text=True)
    assert "OIDC through okta" in html
    assert "By hand in Reviews" in html
    assert PASSWORD not in html


def test_the_api_shows_and_filters_by_source_for_hr_only(app, client, make_person) -> None:
    from reviews.api.operations import create_token

    hr = make_person("Hanna HR", role=Role.HR)
    eve = make_person("Eve Employee")
    scim = make_person("Sam Synced")
    scim.source = Source.SCIM
    scim.provisioned_at = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    db.session.commit()
    with app.test_request_context():
        _row, hr_token = create_token(hr, hr, "t")
        _row, eve_token = create_token(eve, eve, "t")
    db.session.commit()
    as_hr = {"Authorization": f"Bearer {hr_token}"}
    page = client.get("/api/v1/people?managed_by=scim", headers=as_hr).get_json()
    assert [p["name"] for p in page["items"]] == ["Sam Synced"]
    assert page["items"][0]["managed_by"] == "scim"
    assert page["items"][0]["provisioned_at"].startswith("2026-11-30T09:15")
    bad = client.get("/api/v1/people?managed_by=fax", headers=as_hr)
    assert bad.status_code == 400
    assert "managed_by" in bad.get_json()["error"]["fields"]
    mine = client.get(f"/api/v1/people/{scim.id}", headers={"Authorization": f"Bearer {eve_token}"})
    assert "managed_by" not in mine.get_json()


def test_the_personal_data_pdf_lists_sign_in_identities(app, client, make_person, login_as) -> None:
    import io

    from pypdf import PdfReader

    hr = make_person("Hanna HR", role=Role.HR)
    ada = make_person("Ada Linked")
    db.session.add(
        ExternalIdentity(person_id=ada.id, protocol="saml", provider="entra", subject="ada-77")
    )
    db.session.commit()
    login_as(hr)
    pdf = client.get(f"/people/{ada.id}/data.pdf")
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Sign-in through identity providers" in text
    assert "ada-77" in text
    assert "entra" in text
