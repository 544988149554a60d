"""The weekly digest: opting in and out, one letter per subscriber with only the new materials
they may see, none when nothing is new, never twice in a week, and the unsubscribe link."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_string, policy

import time_machine
from sqlalchemy import select

from hub.archive import digest
from hub.archive.models import DigestSubscription, Visibility
from hub.core.types import utcnow
from hub.extensions import db
from hub.outbox.models import OutboxMessage
from tests.archive import bank_fixtures

make_material = bank_fixtures.make_material


def _subscribe(*people) -> None:  # type: ignore[no-untyped-def]
    for person in people:
        digest.set_subscribed(person, True)
    db.session.commit()


def _letters() -> dict[str, str]:
    """The queued digests' plain text by recipient."""
    found = {}
    for mail in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        message = message_from_string(mail.mime, policy=policy.default)
        found[mail.to_addr] = message.get_body(preferencelist=("plain",)).get_content()
    return found


def test_opting_in_and_out_from_the_bank(client, people, login_as):
    login_as(people.teacher)
    response = client.post("/bank/digest", data={"subscribe": "1"})
    assert response.status_code == 302
    assert digest.is_subscribed(people.teacher)
    assert "Stop the weekly digest" in client.get("/bank").get_data(as_text=True)
    client.post("/bank/digest", data={"subscribe": "1"})  # twice: still one subscription
    assert len(db.session.scalars(select(DigestSubscription)).all()) == 1
    client.post("/bank/digest", data={"subscribe": "0"})
    assert not digest.is_subscribed(people.teacher)


def test_one_letter_per_subscriber_with_what_each_may_see(people, network, make_material):
    make_material("Открытые методические рекомендации", created_at=utcnow() - timedelta(days=2))
    make_material("Конспект только для своих", visibility=Visibility.ORGANISATION,
                  created_at=utcnow() - timedelta(days=1))
    make_material("Старый чек-лист", created_at=utcnow() - timedelta(days=20))
    make_material("Неопубликованный черновик", published=False)
    people.other_teacher.locale = "ru"
    _subscribe(people.teacher, people.other_teacher)
    assert digest.send_due_digests() == 2
    db.session.commit()
    letters = _letters()
    assert set(letters) == {people.teacher.email, people.other_teacher.email}
    mine, theirs = letters[people.teacher.email], letters[people.other_teacher.email]
    assert "Открытые методические рекомендации" in mine and "Конспект только для своих" in mine
    assert "Открытые методические рекомендации" in theirs
    assert "Конспект только для своих" not in theirs
    assert mine.startswith("Hello") and theirs.startswith("Здравствуйте")  # each one's language
    for text in (mine, theirs):
        assert "Старый чек-лист" not in text and "Неопубликованный черновик" not in text
        assert "/bank/digest/unsubscribe/" in text


def test_nothing_new_sends_nothing_and_the_week_still_counts(people, make_material):
    make_material("Старый чек-лист", created_at=utcnow() - timedelta(days=20))
    _subscribe(people.teacher)
    assert digest.send_due_digests() == 0
    db.session.commit()
    assert _letters() == {}
    subscription = db.session.scalars(select(DigestSubscription)).one()
    assert subscription.last_sent_at is not None


def test_never_twice_a_week_and_the_next_week_has_only_what_is_new(people, make_material):
    make_material("Слайды первой недели", created_at=utcnow() - timedelta(days=1))
    _subscribe(people.teacher)
    assert digest.send_due_digests() == 1
    db.session.commit()
    assert digest.send_due_digests() == 0  # a second pass, or a second worker
    with time_machine.travel(utcnow() + timedelta(days=3)):
        make_material("Слайды второй недели")
        assert digest.send_due_digests() == 0  # not a week yet
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        assert digest.send_due_digests() == 1
        db.session.commit()
    texts = [message_from_string(m.mime, policy=policy.default).get_body(
        preferencelist=("plain",)).get_content()
        for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert len(texts) == 2
    assert "Слайды второй недели" in texts[1] and "Слайды первой недели" not in texts[1]


def test_a_claim_taken_by_another_worker_is_skipped(people):
    _subscribe(people.teacher)
    subscription = db.session.scalars(select(DigestSubscription)).one()
    assert digest._claim(subscription.id, None, utcnow())
    db.session.commit()
    assert not digest._claim(subscription.id, None, utcnow())  # it read the old value


def test_the_unsubscribe_link_works_without_sign_in(client, people, make_material):
    make_material("Слайды", created_at=utcnow() - timedelta(days=1))
    _subscribe(people.teacher)
    digest.send_due_digests()
    db.session.commit()
    link = re.search(r"https?://\S+/bank/digest/unsubscribe/\S+", _letters()[people.teacher.email])
    path = "/bank/digest/unsubscribe/" + link.group(0).rsplit("/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and people.teacher.email in page.get_data(as_text=True)
    assert digest.is_subscribed(people.teacher)  # a GET (a mail scanner) changes nothing
    assert client.post(path).status_code == 200
    assert not digest.is_subscribed(people.teacher)


def test_a_tampered_unsubscribe_token_is_refused(client, people):
    _subscribe(people.teacher)
    token = digest.unsubscribe_token(people.teacher)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "x" * 300, str(people.teacher.id)):
        response = client.post(f"/bank/digest/unsubscribe/{bad}")
        assert response.status_code == 404
        assert "not valid" in response.get_data(as_text=True)
    assert digest.is_subscribed(people.teacher)
    assert str(people.teacher.id) != token and "teacher" not in token
