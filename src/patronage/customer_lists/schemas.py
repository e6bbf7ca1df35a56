"""What a client may send for a customer list, and what the server sends (seed §1, SPEC §6-7)."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictStr, WithJsonSchema
from pydantic_core import PydanticCustomError

from patronage.bodies import BodyModel

READ_ONLY = ("id", "account_id", "location_id", "created_at")
MAX_NAME_LENGTH = 255


def clean_name(name: str) -> str:
    """A list name as stored: trimmed, not blank, at most 255 characters (NULs are refused at the edge)."""
    name = name.strip()
    if not name:
        raise PydanticCustomError("invalid", "can't be blank")
    if len(name) > MAX_NAME_LENGTH:
        raise PydanticCustomError("invalid", f"is too long (maximum is {MAX_NAME_LENGTH} characters)")
    return name


# What str.strip() removes, as a character class.
_WHITESPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# The length is checked after trimming (255 "é" between spaces is a valid name), hence a pattern, no maxLength.
_NAME_PATTERN = (
    rf"^[{_WHITESPACE}]*[^{_WHITESPACE}\u0000]"
    rf"([^\u0000]{{0,{MAX_NAME_LENGTH - 2}}}[^{_WHITESPACE}\u0000])?[{_WHITESPACE}]*$"
)
ListName = Annotated[
    StrictStr,
    AfterValidator(clean_name),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _NAME_PATTERN,
            "description": "Trimmed; 1 to 255 characters once trimmed",
            "examples": ["Online customers"],
        }
    ),
]


class CustomerListCreate(BodyModel):
    read_only = READ_ONLY

    name: ListName


class CustomerListUpdate(BodyModel):
    """Only a sent ``name`` changes the list; read-only fields may be echoed with their current values."""

    read_only = READ_ONLY
    echo_read_only = True

    # Not nullable: a missing name keeps the current one, a null one is refused (defaults are not validated).
    name: ListName = None  # type: ignore[assignment]


class CustomerListOut(BaseModel):
    id: str = Field(examples=["ag8u4"])
    name: str = Field(examples=["Online customers"])
    account_id: str = Field(examples=["3r4s3"])
    location_id: str | None = Field(examples=["3r4s3-1"], description="null for an account-level list")
    created_at: str = Field(examples=["2020-06-25T11:43:51+02:00"])
