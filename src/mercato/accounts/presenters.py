"""ORM rows → API schemas for accounts. Presenters read only what the services returned; they never query."""

from __future__ import annotations

from mercato.accounts.api_tokens import token_state
from mercato.accounts.models import ApiToken, Organisation, User
from mercato.accounts.repository import Member, RegisteredHost
from mercato.accounts.schemas import HostInstanceOut, MemberOut, OrganisationOut, TokenOut, UserOut


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        active=user.active,
        has_password=bool(user.password_hash),
    )


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=list(token.scopes),
        state=token_state(token),
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def organisation_out(organisation: Organisation) -> OrganisationOut:
    return OrganisationOut.model_validate(organisation, from_attributes=True)


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        user=user_out(member.user), role=member.membership.role, since=member.membership.created_at
    )


def host_out(registered: RegisteredHost) -> HostInstanceOut:
    instance = registered.instance
    return HostInstanceOut(
        id=instance.id,
        organisation_id=instance.organisation_id,
        host_product=registered.host_product_key,
        hosting=instance.hosting,
        server_id=instance.server_id,
        name=instance.name,
        host_license_type=instance.host_license_type,
        user_tier=instance.user_tier,
        host_maintenance_end=instance.host_maintenance_end,
        cloud_users=instance.cloud_users,
        billing_cycle=instance.billing_cycle,
        next_billing_date=instance.next_billing_date,
        created_at=instance.created_at,
    )
