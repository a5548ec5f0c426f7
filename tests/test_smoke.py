from conftest import post


def test_home_for_signed_in_employee(make_person, login_as):
    person = make_person("Ada Lovelace")
    client = login_as(person)
    page = client.get("/")
    assert page.status_code == 200
    assert "Hello, Ada" in page.get_data(as_text=True)
    assert post(client, "/auth/logout").status_code == 302
