"""What the server sends for locations, accounts and the connected user, and what a connection may send to
update a location (HubRise's accounts.md; tenancy/service.py renders and applies them)."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from patronage.bodies import BodyModel
from patronage.custom_fields import CustomFields
from patronage.formats import YEAR_PATTERN, in_year_range
from patronage.validators import Str255

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Minutes: a day at most (the reference gives no bound).
MINUTES = Annotated[StrictInt, Field(ge=0, le=1440)]

# --- what the server sends -------------------------------------------------------------------------------


class TimezoneOut(BaseModel):
    """HubRise's Timezone (general-concepts.md): the IANA name, and the deprecated ``offset``."""

    name: str = Field(examples=["Europe/Paris"])
    offset: int = Field(examples=[3600], description="Deprecated: the UTC offset in seconds at the time of the request")


class AccountOut(BaseModel):
    id: str = Field(examples=["3r4s3"])
    name: str = Field(examples=["Bella Pizza"])
    currency: str = Field(examples=["EUR"])
    country: str = Field(examples=["FR"], description="Beyond HubRise's Account: the account's country")
    timezone: TimezoneOut = Field(description="Beyond HubRise's Account: the time zone of account-level resources")


class TimeSlotOut(BaseModel):
    from_: str = Field(alias="from", examples=["12:00"])
    to: str = Field(examples=["14:00"])


class OrderAcceptanceOut(BaseModel):
    """``online``: ``mode`` only; ``busy``: ``resume_at`` and ``extra_preparation_time``; ``paused``:
    ``resume_at`` and ``reason``. Once ``resume_at`` has passed the location reads ``online`` again."""

    mode: Literal["online", "busy", "paused"]
    resume_at: str | None = Field(None, examples=["2025-06-04T19:30:00+02:00"])
    extra_preparation_time: int | None = Field(None, examples=[25])
    reason: str | None = None


class LocationOut(BaseModel):
    id: str = Field(examples=["3r4s3-1"])
    name: str = Field(examples=["Paris"])
    account: AccountOut
    address: None = Field(description="Patronage keeps no address: always null")
    postal_code: None = Field(description="Always null")
    city: None = Field(description="Always null")
    country: str = Field(examples=["FR"])
    timezone: TimezoneOut
    cutoff_time: str = Field(examples=["06:00"])
    opening_hours: dict[str, list[TimeSlotOut]] | None = Field(description="null until set")
    preparation_time: int | None = Field(examples=[15], description="Minutes; null until set")
    order_acceptance: OrderAcceptanceOut
    custom_fields: dict[str, Any]
    account_id: str = Field(examples=["3r4s3"], description="Beyond HubRise: the account's id (account.id)")
    currency: str = Field(examples=["EUR"], description="Beyond HubRise: the currency of the location's orders")


class UserOut(BaseModel):
    """Users have no names here (``first_name``, ``last_name`` null) nor locales (empty); ``email`` is there only
    with the ``profile_with_email`` scope; ``timezone`` is the connection's location's (account's)."""

    id: str = Field(examples=["v6ap7"])
    first_name: None
    last_name: None
    email: str | None = Field(None, examples=["tom.jones@dummy-mail.org"])
    timezone: TimezoneOut
    locales: list[str] = Field(examples=[[]])


# --- what a connection sends ---------------------------------------------------------------------------

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _clock(value: Any) -> str:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise PydanticCustomError("invalid", "must be a time of the day as HH:mm (00:00 to 23:59)")
    return value


Clock = Annotated[
    str, PlainValidator(_clock), WithJsonSchema({"type": "string", "pattern": _HHMM.pattern, "examples": ["06:00"]})
]

_MOMENT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")


def _moment(value: Any) -> datetime:
    """ISO 8601; naive when sent without an offset (then read in the location's time zone)."""
    try:
        if isinstance(value, str) and _MOMENT.match(value):
            return in_year_range(datetime.fromisoformat(value))
    except ValueError:
        pass
    raise PydanticCustomError("invalid", "must be an ISO 8601 time such as 2025-06-04T19:30:00+02:00")


Moment = Annotated[
    datetime,
    PlainValidator(_moment),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN, "examples": ["2025-06-04T19:30:00+02:00"]}
    ),
]


class TimeSlot(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    from_: Clock = Field(alias="from")
    to: Clock


class OpeningHours(BaseModel):
    """Days may be left out (closed); ``to`` must follow ``from`` (times before the cutoff belong to the
    evening before) and slots of a day may not overlap: checked with the cutoff by the service."""

    # At least one slot in the week (_some_slot), as the document says it: not every day absent, null or empty.
    # ("not" rather than an anyOf of the days: client generators read an anyOf as a union of types.)
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"not": {"properties": {day: {"maxItems": 0} for day in DAYS}}}
    )

    monday: list[TimeSlot] | None = None
    tuesday: list[TimeSlot] | None = None
    wednesday: list[TimeSlot] | None = None
    thursday: list[TimeSlot] | None = None
    friday: list[TimeSlot] | None = None
    saturday: list[TimeSlot] | None = None
    sunday: list[TimeSlot] | None = None


# The fields of each template (OrderAcceptance._template); the first ones are required.
TEMPLATES = {
    "online": (("mode",), ()),
    "busy": (("mode", "extra_preparation_time"), ("resume_at",)),
    "paused": (("mode",), ("resume_at", "reason")),
}


def _templates_schema(schema: dict[str, Any]) -> None:
    """The document shows the three templates, one object each (a client generator makes three classes)."""
    fields = schema.pop("properties")
    schema.pop("required", None)
    schema.pop("additionalProperties", None)
    schema["oneOf"] = [
        {
            "type": "object",
            "title": f"OrderAcceptance{mode.capitalize()}",
            "properties": {
                "mode": {"const": mode},
                **{name: fields[name] for name in required[1:] + optional},
            },
            "required": list(required),
            "additionalProperties": False,
        }
        for mode, (required, optional) in TEMPLATES.items()
    ]
    # Required in busy: never null there.
    schema["oneOf"][1]["properties"]["extra_preparation_time"] = {"type": "integer", "minimum": 0, "maximum": 1440}


class OrderAcceptance(BaseModel):
    """One of HubRise's three templates: ``online`` alone; ``busy`` with ``extra_preparation_time`` (required)
    and ``resume_at``; ``paused`` with ``resume_at`` and ``reason``. One model, so that errors name the field
    (``order_acceptance.resume_at``) rather than the template."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_templates_schema)

    mode: Literal["online", "busy", "paused"]
    resume_at: Moment | None = None
    extra_preparation_time: MINUTES | None = None
    reason: Str255 | None = None

    @model_validator(mode="after")
    def _template(self) -> "OrderAcceptance":
        required, optional = TEMPLATES[self.mode]
        extra = self.model_fields_set - {*required, *optional}
        if extra:
            raise PydanticCustomError("invalid", f"{', '.join(sorted(extra))}: not part of mode {self.mode!r}")
        if self.mode == "busy" and self.extra_preparation_time is None:
            raise PydanticCustomError("invalid", "extra_preparation_time is required when mode is 'busy'")
        return self


def _some_slot(hours: OpeningHours | None) -> OpeningHours | None:
    if hours is not None and not any(getattr(hours, day) for day in DAYS):
        raise PydanticCustomError("invalid", "must hold at least one time slot for the week")
    return hours


# Fields of the rendered location a connection may not change; echoed unchanged they are accepted.
READ_ONLY = (
    "id",
    "name",
    "account",
    "address",
    "postal_code",
    "city",
    "country",
    "timezone",
    "account_id",
    "currency",
)


class LocationUpdate(BodyModel):
    """HubRise's Update Location: only the fields sent change. ``opening_hours: null`` unsets them,
    ``preparation_time: null`` too; ``custom_fields`` merge (SPEC §5)."""

    read_only = READ_ONLY
    echo_read_only = True

    # Not nullable: a missing value keeps the current one, a null one is refused.
    cutoff_time: Clock = None  # type: ignore[assignment]
    opening_hours: Annotated[OpeningHours | None, AfterValidator(_some_slot)] = None
    preparation_time: MINUTES | None = None
    order_acceptance: OrderAcceptance = None  # type: ignore[assignment]
    custom_fields: CustomFields | None = None


def slot_minutes(slot: dict[str, str], cutoff: str) -> tuple[int, int]:
    """A slot as minutes after the cutoff: a ``to`` at the cutoff ends the day, one before it is past midnight."""

    def minutes(clock: str) -> int:
        hours, mins = clock.split(":")
        return int(hours) * 60 + int(mins)

    start = (minutes(slot["from"]) - minutes(cutoff)) % 1440
    end = (minutes(slot["to"]) - minutes(cutoff)) % 1440 or 1440
    return start, end
