"""The calendar subscription box is on a person's own profile, and only there."""


def test_own_profile_offers_the_calendar_subscription(client, people, login_as):
    login_as(people.teacher)
    page = client.get(f"/people/{people.teacher.id}").get_data(as_text=True)
    assert 'id="calendar-feed"' in page and "webcal://" in page


def test_someone_elses_profile_does_not_show_their_feed(client, people, login_as):
    login_as(people.coordinator)
    page = client.get(f"/people/{people.teacher.id}").get_data(as_text=True)
    assert "webcal://" not in page
