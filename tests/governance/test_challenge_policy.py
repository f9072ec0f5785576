"""The access policy for data challenges, teams, grants and one's own API tokens.

The services (challenges, grants, own_tokens) ask these functions; here they are asked
directly, with the statuses, messages and text keys the interfaces show.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from datenschatz.access import policy
from datenschatz.access.policy import ANONYMOUS, Principal, ReviewerKind, Role, system_admin
from datenschatz.db.governance_release_models import Challenge, Team
from datenschatz.errors import Forbidden, NotFound, Unauthorized
from datenschatz.governance import accounts, challenges, grants, tokens
from datenschatz.hub import Hub
from tests.governance.release_builders import days, published, user, who


@dataclass
class World:
    anna: Principal  # admin
    rita: Principal  # reviewer named by the challenge
    rolf: Principal  # reviewer not named by it
    tom: Principal  # team "Sonnenkinder" (with tina), qualified, holds the grant
    otto: Principal  # team "Fremde", applied, not qualified
    application: int
    other_application: int
    grant: int
    extra: int


def _token(hub: Hub, name: str, *scopes: str) -> Principal:
    with hub.session() as session:
        issued = tokens.create_token(
            session, accounts.get_user(session, name), scopes=scopes, actor="t"
        )
        return tokens.principal_for_token(session, issued.secret)


def _world(hub: Hub) -> World:
    published(hub, "luft")
    anna = user(hub, "anna", "admin")
    rita = user(hub, "rita", "reviewer", reviewer_kind="data_owner")
    user(hub, "rolf", "reviewer", reviewer_kind="ethics_reviewer")
    tom, otto = user(hub, "tom"), user(hub, "otto")
    user(hub, "tina")
    with hub.session() as session:
        for slug, reviewers in (("klima", ["rita"]), ("entwurf", [])):
            challenges.create_challenge(
                session,
                anna,
                slug=slug,
                title="Klima",
                question="Where do roofs help?",
                terms="Challenge use only.",
                datasets=["luft"],
                criteria=[{"name": "impact", "weight": 1}],
                applications_close_at=days(10),
                access_ends_at=days(60),
                reviewers=reviewers,
            )
        challenges.publish_challenge(session, anna, "klima")
        challenges.register_team(session, tom, "Sonnenkinder", ["tina"])
        challenges.register_team(session, otto, "Fremde")
        ids = [
            challenges.apply(
                session,
                who_,
                "klima",
                team=team,
                proposal="A roof planner.",
                data_needs=[{"dataset": "luft", "why": "air"}],
            ).id
            for who_, team in ((tom, "Sonnenkinder"), (otto, "Fremde"))
        ]
        challenges.score_application(session, rita, ids[0], {"impact": 8})
        grant = challenges.decide_application(session, rita, ids[0], qualify=True, reason="Good.")
        assert grant.grant_id is not None
        grants.accept_grant(session, tom, grant.grant_id)
    published(hub, "wasser")
    with hub.session() as session:
        extra = grants.request_extra_dataset(session, tom, grant.grant_id, "wasser", "more")
    return World(
        anna=anna,
        rita=who(hub, "rita"),
        rolf=who(hub, "rolf"),
        tom=who(hub, "tom"),
        otto=otto,
        application=ids[0],
        other_application=ids[1],
        grant=grant.grant_id,
        extra=extra.id,
    )


def _challenge(hub: Hub, slug: str = "klima") -> Challenge:
    with hub.session() as session:
        found = session.scalars(select(Challenge).where(Challenge.slug == slug)).one()
        session.expunge(found)
        return found


def test_acting_as_a_person_needs_an_account_and_the_write_scope(hub: Hub) -> None:
    tom = user(hub, "tom")
    assert policy.ensure_person(tom) == tom.user_id
    with pytest.raises(Unauthorized):
        policy.ensure_person(ANONYMOUS)
    with pytest.raises(Forbidden) as cli:  # the CLI's operator has no account
        policy.ensure_person(system_admin("cli"))
    assert cli.value.message == "This needs a user account: act as a user (--as NAME)."
    with pytest.raises(Forbidden) as reading:
        policy.ensure_person(_token(hub, "tom", "read"))
    assert reading.value.key == "auth.scope_missing"


def test_drafts_are_for_admins_who_alone_manage_challenges(hub: Hub) -> None:
    w = _world(hub)
    with hub.session() as session:
        for someone in (ANONYMOUS, w.rita, w.tom):
            assert policy.ensure_challenge(session, someone, "klima").slug == "klima"
            with pytest.raises(NotFound) as hidden:
                policy.ensure_challenge(session, someone, "entwurf")
            assert hidden.value.details == {"challenge": "entwurf"}
            listed = session.scalars(
                select(Challenge.slug).where(policy.visible_challenges(someone))
            ).all()
            assert listed == ["klima"]
        assert policy.ensure_challenge(session, w.anna, "entwurf").status.value == "draft"
        everything = select(Challenge.slug).where(policy.visible_challenges(w.anna))
        assert sorted(session.scalars(everything)) == ["entwurf", "klima"]
        with pytest.raises(NotFound):
            policy.ensure_challenge(session, w.anna, "gibt-es-nicht")
    assert policy.can_manage_challenges(w.anna)
    assert not policy.can_manage_challenges(w.rita)
    policy.ensure_can_manage_challenges(w.anna)
    with pytest.raises(Unauthorized):
        policy.ensure_can_manage_challenges(ANONYMOUS)
    with pytest.raises(Forbidden) as reviewer:
        policy.ensure_can_manage_challenges(w.rita)
    assert reviewer.value.key == "access.admin_only"
    with pytest.raises(Forbidden) as no_admin_scope:
        policy.ensure_can_manage_challenges(_token(hub, "anna", "read", "write"))
    assert no_admin_scope.value.details == {"scope": "admin"}


def test_a_challenge_is_reviewed_by_admins_and_its_named_reviewers(hub: Hub) -> None:
    w = _world(hub)
    klima, entwurf = _challenge(hub), _challenge(hub, "entwurf")
    assert policy.can_review_challenge(w.anna, klima)
    assert policy.can_review_challenge(w.rita, klima)
    assert not policy.can_review_challenge(w.rolf, klima)  # klima names rita only
    assert policy.can_review_challenge(w.rolf, entwurf)  # naming nobody: every reviewer
    assert not policy.can_review_challenge(w.tom, klima)
    assert not policy.can_review_challenge(ANONYMOUS, entwurf)
    # A reviewer role without an account (never built by the services) reviews nothing.
    assert not policy.can_review_challenge(Principal(roles=frozenset({Role.REVIEWER})), entwurf)

    policy.ensure_can_review_challenge(w.rita, klima)
    with pytest.raises(Forbidden) as team:
        policy.ensure_can_review_challenge(w.tom, klima)
    assert team.value.message == "Only the challenge's reviewers do this."
    with pytest.raises(Forbidden) as reading:  # the scope is asked first
        policy.ensure_can_review_challenge(_token(hub, "rita", "read"), klima)
    assert reading.value.key == "auth.scope_missing"

    policy.ensure_can_see_reviews(_token(hub, "rita", "read"), klima)  # seeing needs no write
    with pytest.raises(Forbidden) as page:
        policy.ensure_can_see_reviews(w.rolf, klima)
    assert page.value.key == "challenge.reviewers_only"


def test_teams_are_their_members_own(hub: Hub) -> None:
    w = _world(hub)
    with hub.session() as session:
        sonnenkinder = policy.ensure_own_team(session, w.tom, "Sonnenkinder")
        assert policy.is_team_member(session, w.tom, sonnenkinder.id)
        assert not policy.is_team_member(session, w.otto, sonnenkinder.id)
        assert not policy.is_team_member(session, ANONYMOUS, sonnenkinder.id)
        for name in ("Fremde", "gibt-es-nicht"):  # someone else's team looks absent
            with pytest.raises(NotFound) as absent:
                policy.ensure_own_team(session, w.tom, name)
            assert absent.value.details == {"parameter": "team"}
        with pytest.raises(NotFound):  # an admin acts for no team of theirs either
            policy.ensure_own_team(session, w.anna, "Sonnenkinder")

        def teams(principal: Principal) -> list[str]:
            query = select(Team.name).where(policy.visible_teams(principal)).order_by(Team.name)
            return list(session.scalars(query))

        assert teams(w.tom) == ["Sonnenkinder"]
        assert teams(who(hub, "tina")) == ["Sonnenkinder"]
        assert teams(w.anna) == ["Fremde", "Sonnenkinder"]
        assert teams(w.rita) == []
        assert teams(ANONYMOUS) == []


def test_applications_are_seen_by_the_team_and_the_challenges_reviewers(hub: Hub) -> None:
    w = _world(hub)
    with hub.session() as session:
        for someone in (w.tom, who(hub, "tina"), w.rita, w.anna):
            assert policy.ensure_application(session, someone, w.application).id == w.application
        for someone in (w.otto, w.rolf, ANONYMOUS):
            with pytest.raises(NotFound) as hidden:
                policy.ensure_application(session, someone, w.application)
            assert hidden.value.details == {"application": w.application}
        with pytest.raises(NotFound):
            policy.ensure_application(session, w.anna, 9999)
        klima = session.scalars(select(Challenge).where(Challenge.slug == "klima")).one()
        sonnenkinder = policy.ensure_own_team(session, w.tom, "Sonnenkinder")
        fremde = policy.ensure_own_team(session, w.otto, "Fremde")
        assert policy.can_see_team_work(session, w.rita, klima, fremde.id)
        assert not policy.can_see_team_work(session, w.tom, klima, fremde.id)
        policy.ensure_can_submit(session, klima, sonnenkinder)
        with pytest.raises(Forbidden) as unqualified:
            policy.ensure_can_submit(session, klima, fremde)
        assert unqualified.value.message == "Only a qualified team submits results."
        assert unqualified.value.details == {"challenge": "klima"}


def test_grants_are_accepted_and_extended_by_the_team_and_revoked_by_admins(hub: Hub) -> None:
    w = _world(hub)
    with hub.session() as session:
        for someone in (w.tom, w.rita, w.anna):
            grant = policy.ensure_grant(session, someone, w.grant)
            assert policy.can_see_grant(session, someone, grant)
        for someone in (w.otto, w.rolf, ANONYMOUS):
            with pytest.raises(NotFound) as hidden:
                policy.ensure_grant(session, someone, w.grant)
            assert hidden.value.details == {"grant": w.grant}
        grant = policy.ensure_grant(session, w.anna, w.grant)

        policy.ensure_can_accept_grant(session, w.tom, grant)
        policy.ensure_can_request_extra(session, who(hub, "tina"), grant)
        for check, message in (
            (policy.ensure_can_accept_grant, "Only a member of the team accepts the terms."),
            (policy.ensure_can_request_extra, "Only a member of the team asks for more data."),
        ):
            with pytest.raises(Forbidden) as reviewer:
                check(session, w.rita, grant)
            assert (reviewer.value.message, reviewer.value.details) == (message, {"grant": w.grant})

        policy.ensure_can_revoke_grant(w.anna, grant)
        with pytest.raises(Forbidden) as not_admin:
            policy.ensure_can_revoke_grant(w.rita, grant)
        assert not_admin.value.message == "Only an admin revokes a grant."


def test_extra_requests_are_decided_by_the_challenges_reviewers(hub: Hub) -> None:
    w = _world(hub)
    with hub.session() as session:
        assert policy.ensure_can_decide_extra(session, w.rita, w.extra).id == w.extra
        assert policy.ensure_can_decide_extra(session, w.anna, w.extra).id == w.extra
        with pytest.raises(Forbidden) as team:  # the team sees its request, decides nothing
            policy.ensure_can_decide_extra(session, w.tom, w.extra)
        assert team.value.message == "A reviewer of the challenge decides this request."
        for someone in (w.otto, w.rolf, ANONYMOUS):
            with pytest.raises(NotFound) as hidden:
                policy.ensure_can_decide_extra(session, someone, w.extra)
            assert hidden.value.details == {"request": w.extra}
        with pytest.raises(NotFound):
            policy.ensure_can_decide_extra(session, w.anna, 9999)
    reading = _token(hub, "rita", "read")
    with hub.session() as session, pytest.raises(Forbidden) as no_write:
        policy.ensure_can_decide_extra(session, reading, w.extra)
    assert no_write.value.key == "auth.scope_missing"


def test_own_tokens_are_issued_by_a_person_for_their_own_grants(hub: Hub) -> None:
    w = _world(hub)
    assert policy.ensure_can_issue_token(w.tom) == w.tom.user_id
    with pytest.raises(Unauthorized):
        policy.ensure_can_issue_token(ANONYMOUS)
    with pytest.raises(Forbidden) as by_token:  # a token cannot issue tokens
        policy.ensure_can_issue_token(_token(hub, "tom", "read", "write"))
    assert by_token.value.key == "partner.token_by_token"
    with hub.session() as session:
        assert policy.ensure_own_grant(session, w.tom, w.grant).id == w.grant
        with pytest.raises(NotFound) as reviewed:  # a grant one reviews is no grant of one's own
            policy.ensure_own_grant(session, w.rita, w.grant)
        assert reviewed.value.key == "partner.no_grant"
        with pytest.raises(NotFound) as outsider:  # ensure_grant already hides it
            policy.ensure_own_grant(session, w.otto, w.grant)
        assert outsider.value.details == {"grant": w.grant}

        mine = tokens.create_token(session, accounts.get_user(session, "tom"), actor="t").info.id
        theirs = tokens.create_token(session, accounts.get_user(session, "otto"), actor="t")
        assert policy.ensure_own_token(session, w.tom, mine).id == mine
        for token_id in (theirs.info.id, 9999):  # someone else's token looks absent
            with pytest.raises(NotFound) as absent:
                policy.ensure_own_token(session, w.tom, token_id)
            assert (absent.value.key, absent.value.details) == (
                "partner.no_token",
                {"token": token_id},
            )
        with pytest.raises(NotFound):
            policy.ensure_own_token(session, ANONYMOUS, mine)


def test_scopes_and_release_questions_follow_the_roles() -> None:
    admin, steward = frozenset({Role.ADMIN}), frozenset({Role.STEWARD})
    assert policy.can_hold_scope(admin, "admin")
    assert not policy.can_hold_scope(steward, "admin")
    assert not policy.can_hold_scope(frozenset(), "admin")
    for scope in ("read", "write", "sensors:write", "grant:7"):
        assert policy.can_hold_scope(frozenset(), scope)

    owner = Principal(
        user_id=1,
        roles=frozenset({Role.REVIEWER}),
        reviewer_kinds=frozenset({ReviewerKind.DATA_OWNER}),
    )
    any_reviewer = Principal(user_id=2, roles=frozenset({Role.REVIEWER}))
    root = Principal(user_id=3, roles=admin)
    for kind in ReviewerKind:
        assert policy.can_answer_release_question(owner, kind) is (kind is ReviewerKind.DATA_OWNER)
        assert policy.can_answer_release_question(any_reviewer, kind)
        assert policy.can_answer_release_question(root, kind)
