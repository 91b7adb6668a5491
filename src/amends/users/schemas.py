"""What the users API reads and returns. Secrets go in (a password, once) and out (a new
token's secret, once); hashes never leave."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from amends.users.rules import Role, Scope


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    active: bool
    last_login_at: datetime | None
    created_at: datetime


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.AGENT
    password: str | None = Field(default=None, max_length=1024)
    team: str | None = Field(default=None, max_length=100)


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    role: Role | None = None


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(max_length=254, description="the email of the user the token acts as")
    name: str = Field(min_length=1, max_length=100, description="what uses it")
    scopes: list[Scope] = Field(min_length=1)
    expires_at: datetime | None = None


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    secret: str = Field(description="shown once: store it now")


class MeRead(BaseModel):
    email: str
    name: str
    role: Role
    scopes: list[Scope]
    team_ids: list[int] | None
    via: str
