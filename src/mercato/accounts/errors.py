"""One error type per accounts rule: people, organisations, memberships, host instances and API tokens. The
sentence is written where the rule is checked; routes list these in ``responses=``."""

from __future__ import annotations

from mercato.accounts.access import Forbidden
from mercato.problems import Conflict, InvalidInput, NotFound, Problem

# -- people and memberships ----------------------------------------------------------------------------------


class InvalidEmail(InvalidInput):
    """The text is not an e-mail address (something like `name@example.com`)."""

    type = "invalid-email"
    title = "Not an e-mail address"


class FieldEmpty(InvalidInput):
    """A required text field was empty or only spaces; the sentence names it."""

    type = "field-empty"
    title = "A field must not be empty"


class FieldTooLong(InvalidInput):
    """A text field is longer than allowed; the sentence names it and its limit."""

    type = "field-too-long"
    title = "A field is too long"


class UnknownRole(InvalidInput):
    """Roles are `customer_admin` and `billing_contact` in an organisation, `vendor_member` in a vendor's
    team, `operator_admin` for operator staff."""

    type = "unknown-role"
    title = "Unknown role"


class RoleHeldElsewhere(InvalidInput):
    """The role belongs to another kind of party: customer roles to an organisation, `vendor_member` to a
    vendor's team, `operator_admin` to the whole marketplace."""

    type = "role-held-elsewhere"
    title = "The role is held in another kind of party"


class EmailTaken(Conflict):
    """A user with this e-mail address exists already. Grant that user a role instead of creating another."""

    type = "email-taken"
    title = "The e-mail address has a user"


class RoleAlreadyHeld(Conflict):
    """The person holds this role here already; nothing was changed."""

    type = "role-already-held"
    title = "The role is held already"


class UserNotFound(NotFound):
    """No user has this e-mail address or id."""

    type = "user-not-found"
    title = "No such user"


class VendorNotFound(NotFound):
    """No vendor has this slug or id."""

    type = "vendor-not-found"
    title = "No such vendor"


# -- organisations -------------------------------------------------------------------------------------------


class InvalidSlug(InvalidInput):
    """A slug is 1 to 64 lower-case letters, digits and inner hyphens, like `acme` or `acme-europe`."""

    type = "invalid-slug"
    title = "Not a slug"


class SlugTaken(Conflict):
    """Another organisation has this slug. Choose another one."""

    type = "slug-taken"
    title = "The slug is taken"


class UnknownCountry(InvalidInput):
    """Countries are ISO 3166 alpha-2 codes, like `US`, `DE` or `JP`."""

    type = "unknown-country"
    title = "Unknown country code"


class OrganisationNotFound(NotFound):
    """The organisation does not exist, or you have no role in it (both answer alike, so existence does
    not leak). `GET /api/v1/organisations` lists yours."""

    type = "organisation-not-found"
    title = "No such organisation"


class NotAnAdmin(Forbidden):
    """Only the organisation's customer admins (and operator staff) may do this; its billing contacts may
    look."""

    type = "not-an-admin"
    title = "Only the organisation's admins may do this"


class OperatorOnly(Forbidden):
    """Only operator staff may do this, for example create an organisation."""

    type = "operator-only"
    title = "Only operator staff may do this"


# -- host instances ------------------------------------------------------------------------------------------


class UnknownHostProduct(InvalidInput):
    """There is no host product with this key. `GET /api/v1/host-products` lists them."""

    type = "unknown-host-product"
    title = "Unknown host product"


class UnknownHosting(InvalidInput):
    """Hostings are `server`, `datacenter` and `cloud`."""

    type = "unknown-hosting"
    title = "Unknown hosting"


class HostingNotSold(InvalidInput):
    """The host product is not sold in this hosting (there is no tracker Data Center, for example)."""

    type = "hosting-not-sold"
    title = "The host product is not sold in that hosting"


class InvalidServerId(InvalidInput):
    """A server id is the host's license server id, like `BX7Q-2M9L-33KD-W1PA`; a cloud site is its
    hostname, like `acme.wiki.example`."""

    type = "invalid-server-id"
    title = "Not a server id or cloud site"


class ServerIdTaken(Conflict):
    """This server id is registered already for this host product and hosting, by some organisation (which
    one is not said). Check the id, or ask operator staff."""

    type = "server-id-taken"
    title = "The server id is registered already"


class HostTermsInvalid(InvalidInput):
    """Terms that do not describe a real instance: a cloud site with a tier, a server with cloud users, a tier
    the host product does not sell, a missing billing cycle; the sentence says which."""

    type = "host-terms-invalid"
    title = "Those terms do not describe the host instance"


class UnknownLicenseType(InvalidInput):
    """License types are `commercial`, `academic`, `starter`, `community`, `open_source`, `evaluation` and
    `developer`."""

    type = "unknown-license-type"
    title = "Unknown license type"


class HostInstanceNotFound(NotFound):
    """The host instance does not exist, or belongs to an organisation you have no role in (both answer
    alike)."""

    type = "host-instance-not-found"
    title = "No such host instance"


# -- API tokens ----------------------------------------------------------------------------------------------


class UnknownScope(InvalidInput):
    """Token scopes are `read` and `write` (which includes read)."""

    type = "unknown-scope"
    title = "Unknown scope"


class InactiveUser(InvalidInput):
    """The user is deactivated: no token can be made for them."""

    type = "inactive-user"
    title = "The user is deactivated"


class TokenLifetimeInvalid(InvalidInput):
    """`expires_in_days` is 1 to 3650 days, or left out for a token that does not expire."""

    type = "token-lifetime-invalid"
    title = "A token's lifetime is out of range"


class ScopeBeyondCredential(Forbidden):
    """A token can create tokens with its own scopes only: a read-only token cannot make a token that writes."""

    type = "scope-beyond-credential"
    title = "A token cannot grant more than the one that creates it"


class TokenNotFound(NotFound):
    """None of your tokens has this id. `GET /api/v1/tokens` lists yours (by id; the token itself is never
    shown again)."""

    type = "token-not-found"
    title = "No such API token"


# -- e-mail links: invitations, password resets, sign-ups -----------------------------------------------------


class LinkNotFound(NotFound):
    """The link is not one Mercato sent, or a newer one replaced it (inviting again, for example, sends a new
    link and the old one stops working). Use the newest e-mail, or ask for a new link."""

    type = "link-not-found"
    title = "This link is not valid"


class LinkUsed(Conflict):
    """The link was used already; each invitation, password-reset and sign-up link works once. Nothing was
    changed. Sign in, or ask for a new link."""

    type = "link-used"
    title = "This link was used already"


class LinkExpired(Problem):
    """The link is past its expiry (an invitation lasts 7 days, a password reset 30 minutes, a sign-up
    confirmation 1 day). Nothing was changed; ask for a new one."""

    status = 410
    type = "link-expired"
    title = "This link has expired"


class PasswordNotRight(InvalidInput):
    """The password given is not the account's current password. Nothing was changed."""

    type = "password-not-right"
    title = "The password is not right"
