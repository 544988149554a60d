"""Every token the hub hands out: long and random, never stored as itself, and a wrong one gets
the documented friendly answer, never a 500.

Lifetimes and revocation are proven by the domains' tests:
- sign-in link: 15 minutes (SIGNIN_LINK_MINUTES), single use, dead once the person is
  deactivated — tests/auth/test_link.py (test_link_works_only_once, test_expired_link_…,
  test_link_of_a_person_deactivated_later_does_not_work);
- password reset: 60 minutes (PASSWORD_RESET_MINUTES), single use, and a reset kills the other
  outstanding links and sessions — tests/auth/test_password.py;
- join link /j/: only from 30 minutes before the start to the end, revoked (new nonce, new
  letter) from the attendance sheet — tests/attendance/test_join.py
  (test_a_revoked_link_stops_working_…);
- RSVP: answers only while the event is to come — tests/calendar/test_rsvp.py;
- calendar feed: rotating kills the old address, a deactivated person's feed is gone —
  tests/calendar/test_feeds.py;
- check-in code: the 30-second window and the one before, 5 wrong codes a minute per person —
  tests/attendance/test_checkins.py;
- feedback survey: answers once — tests/growth/test_feedback.py.
Here: the same properties across all of them at once.
"""

from __future__ import annotations

import ast
import math
import re
import string
from datetime import timedelta
from pathlib import Path

import pytest

from hub.archive.digest import unsubscribe_token
from hub.attendance import links
from hub.auth.models import TokenPurpose
from hub.auth.services import issue_token
from hub.board.access import Viewer, guest_token, new_guest_key, read_guest_token
from hub.calendar.feeds import feed_token, get_or_create_feed, rotate_feed
from hub.calendar.invitations import find_invitation, invitation_token
from hub.directory.importing import save_upload
from hub.extensions import db
from hub.growth import certificates, feedback
from tests.conftest import login
from tests.growth.records import attend
from tests.security.test_csrf import snapshot

ROOT = Path(__file__).resolve().parents[2]
URLSAFE = set(string.ascii_letters + string.digits + "-_")


def bits(token: str) -> float:
    """The most entropy a token of this length and alphabet can carry."""
    alphabet = (16 if set(token) <= set(string.hexdigits.lower())
                else 64 if set(token) <= URLSAFE else 0)
    return len(token) * math.log2(alphabet) if alphabet else 0.0


def issued(people, event) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One token of every kind the hub emails or links to, made by the hub's own code."""
    invitation = next(i for i in event.invitations if i.person_id == people.teacher.id)
    with_time = event.end_at + timedelta(hours=2)
    record = attend(event, people.teacher, people.coordinator)
    assert record is not None
    tokens = {
        "sign-in link": issue_token(people.teacher, TokenPurpose.SIGN_IN),
        "password reset": issue_token(people.teacher, TokenPurpose.PASSWORD_RESET),
        "invitation (/j/, /rsvp/)": invitation_token(invitation),
        "calendar feed": feed_token(get_or_create_feed(people.teacher)),
        "import upload": save_upload(b"a;b\n", owner_id=people.coordinator.id,
                                     filename="p.csv").token,
    }
    db.session.commit()
    made: list[str] = []
    real_new_token = feedback.new_token

    def remember() -> str:
        made.append(real_new_token())
        return made[-1]

    feedback.new_token = remember
    try:
        assert feedback.queue_surveys(now=with_time + timedelta(hours=1)) >= 1
    finally:
        feedback.new_token = real_new_token
    db.session.commit()
    tokens["feedback survey"] = made[0]
    return tokens


def test_every_token_is_long_random_and_stored_only_as_a_hash(people, event):
    tokens = issued(people, event)
    weak = {kind: bits(token) for kind, token in tokens.items() if bits(token) < 128}
    assert not weak, f"fewer than 128 bits: {weak}"
    again = issued_again(people)
    assert not set(again.values()) & set(tokens.values())
    rows = repr(snapshot())
    stored = [kind for kind, token in tokens.items() if token in rows]
    assert stored == [], f"stored as themselves: {stored}"


def issued_again(people) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A second token of the kinds that are fresh on every request."""
    return {"sign-in link": issue_token(people.teacher, TokenPurpose.SIGN_IN),
            "feed": feed_token(rotate_feed(people.teacher))}


def test_signed_tokens_carry_no_secret_and_codes_are_long_enough(app, people, board):
    """Not hashed, by design: the unsubscribe link and a board guest's token are signed
    (itsdangerous, SECRET_KEY), so a forged one fails its signature; a certificate's code is
    a public reference printed on paper (16 symbols, 80 bits, /verify limited to 30 a minute)
    that shows a name and hours, not a credential."""
    assert unsubscribe_token(people.teacher) not in repr(snapshot())
    guest = Viewer(key=new_guest_key(), name="Гость", person_id=None, moderator=False,
                   can_post=True)
    signed = guest_token(board, guest)
    assert read_guest_token(board, signed) is not None
    forged = signed[:-2] + ("AA" if signed[-2:] != "AA" else "BB")
    assert read_guest_token(board, forged) is None
    assert len({certificates.new_code() for _ in range(200)}) == 200
    assert certificates.CODE_LENGTH * math.log2(len(certificates.CODE_ALPHABET)) >= 80


#: Modules that may use the `random` module: demo data and retry jitter, never a token.
RANDOM_ALLOWED = {"hub/demo.py", "hub/demo_term.py", "hub/conferencing/rooms.py",
                  "hub/outbox/worker.py"}


def test_tokens_come_from_secrets_not_random():
    users = set()
    for path in (ROOT / "hub").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if "random" in names:
                users.add(str(path.relative_to(ROOT)))
    allowed = RANDOM_ALLOWED | {u for u in users if u.endswith("/demo.py")}
    assert users <= allowed, sorted(users - allowed)


#: Every route that takes a token: (method, path, who asks, the documented answer to a
#: wrong token). Each answer is a friendly page (a heading, no traceback).
TOKEN_ROUTES = [
    ("GET", "/login/link/{}", None, 410),
    ("POST", "/login/link/{}", None, 410),
    ("GET", "/password/reset/{}", None, 410),
    ("POST", "/password/reset/{}", None, 410),
    ("GET", "/j/{}", None, 404),
    ("GET", "/rsvp/{}", None, 404),
    ("POST", "/rsvp/{}", None, 404),
    ("GET", "/feeds/{}.ics", None, 404),
    ("GET", "/feedback/{}", None, 404),
    ("POST", "/feedback/{}", None, 404),
    ("GET", "/verify/{}", None, 404),
    ("GET", "/bank/digest/unsubscribe/{}", None, 404),
    ("POST", "/bank/digest/unsubscribe/{}", None, 404),
    ("GET", "/people/import/{}", "coordinator", 404),
    ("POST", "/people/import/{}", "coordinator", 404),
    ("GET", "/people/import/{}/result", "coordinator", 404),
    ("POST", "/people/import/{}/cancel", "coordinator", 404),
]
#: Path arguments that are not tokens.
NOT_TOKENS = {"/lang/<code>"}
WRONG = {
    "unknown": "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg",
    "long": "A" * 5000,
    "odd": "%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82%20%27%22%3C%3E",
    "nul": "abc%00def",
    "dots": "..%5C..%5Cetc%5Cpasswd",
    "one": "x",
}


def test_the_token_table_covers_every_token_route(app):
    """A new route taking a token or code needs a row above."""
    taking = {(method, rule.rule) for rule in app.url_map.iter_rules()
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
              if re.search(r"<(?:string:)?(token|code)>", rule.rule)
              and rule.rule not in NOT_TOKENS}
    listed = {(method, template.replace("{}", "")) for method, template, *_ in TOKEN_ROUTES}
    missing = {(m, r) for m, r in taking if (m, re.sub(r"<[^>]+>", "", r)) not in listed}
    assert not missing, sorted(missing)


@pytest.mark.parametrize("kind", sorted(WRONG))
def test_a_wrong_token_gets_the_documented_page(app, client, people, kind):
    signed_in = app.test_client()
    login(signed_in, people.coordinator)
    wrong = []
    for method, template, who, status in TOKEN_ROUTES:
        path = template.format(WRONG[kind])
        response = (signed_in if who else client).open(
            path, method=method, data={"answer": "accepted", "rating": "5"})
        body = response.get_data(as_text=True)
        if response.status_code != status or "Traceback" in body or "<h1" not in body:
            wrong.append(f"{method} {path[:60]}: {response.status_code}, expected {status}")
    assert not wrong, "\n".join(wrong)


def test_a_token_one_character_off_is_refused(client, people, event):
    invitation = next(i for i in event.invitations if i.person_id == people.teacher.id)
    token = invitation_token(invitation)
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert find_invitation(changed) is None
    assert find_invitation(token.upper()) is None or token == token.upper()
    assert client.get(f"/j/{changed}").status_code == 404
    feed = feed_token(get_or_create_feed(people.teacher))
    db.session.commit()
    assert client.get(f"/feeds/{feed[:-1]}.ics").status_code == 404
    assert client.get(f"/feeds/{feed}.ics").status_code == 200


def test_revoked_and_rotated_tokens_answer_404_not_500(client, people, event):
    """The join link revoked from the sheet and the rotated feed: the old address is a friendly
    404 at once (and the new one works)."""
    invitation = next(i for i in event.invitations if i.person_id == people.teacher.id)
    old_join = invitation_token(invitation)
    old_feed = feed_token(get_or_create_feed(people.teacher))
    assert links.revoke(invitation)
    new_feed = feed_token(rotate_feed(people.teacher))
    db.session.commit()
    assert client.get(f"/j/{old_join}").status_code == 404
    assert client.get(f"/rsvp/{old_join}").status_code == 404
    assert client.get(f"/feeds/{old_feed}.ics").status_code == 404
    assert client.get(f"/feeds/{new_feed}.ics").status_code == 200
    assert client.get(f"/j/{invitation_token(invitation)}").status_code == 200
