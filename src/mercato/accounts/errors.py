"""One error type per accounts rule: people, organisations, memberships, host instances and API tokens. The
sentence is written where the rule is checked; routes list these in ``responses=``."""

from __future__ import annotations

from mercato.accounts.access import Forbidden
from mercato.problems import Conflict, InvalidInput, NotFound

# -- people and memberships ----------------------------------------------------------------------------------


class InvalidEmail(InvalidInput):
    type = "invalid-email"
    title = "Not an e-mail address"


class FieldEmpty(InvalidInput):
    type = "field-empty"
    title = "A field must not be empty"


class FieldTooLong(InvalidInput):
    type = "field-too-long"
    title = "A field is too long"


class UnknownRole(InvalidInput):
    type = "unknown-role"
    title = "Unknown role"


class RoleHeldElsewhere(InvalidInput):
    type = "role-held-elsewhere"
    title = "The role is held in another kind of party"


class EmailTaken(Conflict):
    type = "email-taken"
    title = "The e-mail address has a user"


class RoleAlreadyHeld(Conflict):
    type = "role-already-held"
    title = "The role is held already"


class UserNotFound(NotFound):
    type = "user-not-found"
    title = "No such user"


class VendorNotFound(NotFound):
    type = "vendor-not-found"
    title = "No such vendor"


# -- organisations -------------------------------------------------------------------------------------------


class InvalidSlug(InvalidInput):
    type = "invalid-slug"
    title = "Not a slug"


class SlugTaken(Conflict):
    type = "slug-taken"
    title = "The slug is taken"


class UnknownCountry(InvalidInput):
    type = "unknown-country"
    title = "Unknown country code"


class OrganisationNotFound(NotFound):
    type = "organisation-not-found"
    title = "No such organisation"


class NotAnAdmin(Forbidden):
    type = "not-an-admin"
    title = "Only the organisation's admins may do this"


class OperatorOnly(Forbidden):
    type = "operator-only"
    title = "Only operator staff may do this"


# -- host instances ------------------------------------------------------------------------------------------


class UnknownHostProduct(InvalidInput):
    type = "unknown-host-product"
    title = "Unknown host product"


class UnknownHosting(InvalidInput):
    type = "unknown-hosting"
    title = "Unknown hosting"


class HostingNotSold(InvalidInput):
    type = "hosting-not-sold"
    title = "The host product is not sold in that hosting"


class InvalidServerId(InvalidInput):
    type = "invalid-server-id"
    title = "Not a server id or cloud site"


class ServerIdTaken(Conflict):
    type = "server-id-taken"
    title = "The server id is registered already"


class HostTermsInvalid(InvalidInput):
    """Terms that do not describe a real instance: a cloud site with a tier, a server with cloud users, a tier
    the host product does not sell, a missing billing cycle; the sentence says which."""

    type = "host-terms-invalid"
    title = "Those terms do not describe the host instance"


class UnknownLicenseType(InvalidInput):
    type = "unknown-license-type"
    title = "Unknown license type"


class HostInstanceNotFound(NotFound):
    type = "host-instance-not-found"
    title = "No such host instance"


# -- API tokens ----------------------------------------------------------------------------------------------


class UnknownScope(InvalidInput):
    type = "unknown-scope"
    title = "Unknown scope"


class InactiveUser(InvalidInput):
    type = "inactive-user"
    title = "The user is deactivated"


class TokenLifetimeInvalid(InvalidInput):
    type = "token-lifetime-invalid"
    title = "A token's lifetime is out of range"


class ScopeBeyondCredential(Forbidden):
    type = "scope-beyond-credential"
    title = "A token cannot grant more than the one that creates it"


class TokenNotFound(NotFound):
    type = "token-not-found"
    title = "No such API token"
