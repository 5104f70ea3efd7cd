"""Request and response of the license validation API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mercato.fields import Day, Text
from mercato.licensing import Hosting, LicenseType


class ValidateRequest(BaseModel):
    """A pasted key and the host it was pasted into."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "eyJhbGciOiJFZERTQSIsImtpZCI6Im9wZXJhdG9yLTIwMjYxMTI2LTAyMDE5YSJ9.e30.c2ln",
                    "app_key": "com.example.mockups.wiki",
                    "hosting": "server",
                    "server_id": "BX7Q-2M9L-33KD-W1PA",
                    "host_tier": "100",
                    "host_license_type": "commercial",
                    "app_users": 25,
                }
            ]
        },
    )

    key: str = Field(
        max_length=8192, description="The license key as pasted (whitespace and line breaks are ignored)."
    )
    app_key: Text = Field(min_length=1, max_length=200, examples=["com.example.mockups.wiki"])
    hosting: Hosting
    server_id: Text = Field(
        min_length=1, max_length=200, description="The host's server id, or the cloud site."
    )
    host_tier: str = Field(
        max_length=20,
        description='The host\'s user tier: a number of users or "unlimited".',
        examples=["100"],
    )
    host_license_type: LicenseType = LicenseType.COMMERCIAL
    app_users: int | None = Field(default=None, ge=0, description="How many users use the app (direct keys).")
    build_date: Day | None = Field(default=None, description="Build date of the installed app version.")

    @field_validator("app_key", "server_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("host_tier")
    @classmethod
    def _tier(cls, value: str) -> str:
        text = value.strip().lower()
        if text != "unlimited" and not (text.isascii() and text.isdigit() and int(text) > 0):
            raise ValueError('the host tier is a positive number of users or "unlimited"')
        return text

    def host_tier_users(self) -> int | None:
        return None if self.host_tier == "unlimited" else int(self.host_tier)


class ServerKnowledgeOut(BaseModel):
    known: bool = Field(description="Whether this deployment issued the key (and so knows its state).")
    license_status: str | None = Field(description="active, expired, suspended, cancelled or superseded.")
    key_state: str | None = Field(
        description="current, superseded (still valid in its grace period) or revoked."
    )
    superseded_grace_until: datetime | None
    revoked_reason: str | None


class ValidateResponse(BaseModel):
    status: str = Field(
        description="MALFORMED, BAD_SIGNATURE, UNKNOWN_KEY, APP_MISMATCH, HOST_MISMATCH, REVOKED, USERS_EXCEEDED, "
        "USER_MISMATCH, TYPE_MISMATCH, EXPIRED, VERSION_MISMATCH or VALID: the first check that fails.",
        examples=["VALID"],
    )
    message: str = Field(description="What the verdict means for the admin, with the real values.")
    action: str = Field(
        description="What fixes it: NONE, GET_NEW_KEY, CONTACT_SELLER, BUY, UPGRADE or RENEW."
    )
    license: dict[str, Any] | None = Field(
        description="The key's terms, when its signature could be trusted."
    )
    server: ServerKnowledgeOut | None = Field(description="What only the server knows about this key.")
