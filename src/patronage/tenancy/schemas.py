"""What the server sends for locations, accounts and the connected user (tenancy/service.py renders them)."""

from pydantic import BaseModel, Field


class LocationOut(BaseModel):
    id: str = Field(examples=["3r4s3-1"])
    account_id: str = Field(examples=["3r4s3"])
    name: str = Field(examples=["Paris"])
    currency: str = Field(examples=["EUR"])
    country: str = Field(examples=["FR"])
    timezone: str = Field(examples=["Europe/Paris"])


class AccountOut(BaseModel):
    id: str = Field(examples=["3r4s3"])
    name: str = Field(examples=["Bella Pizza"])
    currency: str = Field(examples=["EUR"])
    country: str = Field(examples=["FR"])
    timezone: str = Field(examples=["Europe/Paris"])


class UserOut(BaseModel):
    """Users have no names here: ``first_name`` and ``last_name`` are always null; ``email`` needs the
    ``profile_with_email`` scope."""

    id: str = Field(examples=["v6ap7"])
    first_name: None
    last_name: None
    email: str | None = Field(examples=["tom.jones@dummy-mail.org"])
