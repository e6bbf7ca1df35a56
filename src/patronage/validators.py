"""Field types shared by request models: strict, with the contract's rules (SPEC §5, §7)."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import phonenumbers
import pycountry
from pydantic import AfterValidator, BeforeValidator, StringConstraints, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from patronage.formats import YEAR_PATTERN, render_decimal

Str255 = Annotated[str, StringConstraints(strict=True, max_length=255)]
Str1000 = Annotated[str, StringConstraints(strict=True, max_length=1000)]


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


def _email(value: str) -> str:
    if (
        len(value) > 254
        or value.count("@") != 1
        or any(ch.isspace() for ch in value)
        or value.startswith("@")
        or value.endswith("@")
    ):
        raise _fail("is not a valid email address")
    return value


_E164 = re.compile(r"^\+[0-9]{8,15}$")


# What HubRise still accepts besides E.164 (seed §2.3, note (*)): a national or loosely written number.
_LOOSE_PHONE = re.compile(r"[0-9 +\-.()]+")


def _phone(value: str, info: ValidationInfo) -> str:
    """E.164 (checked by libphonenumber) for a number starting with +; otherwise, unless
    ``PATRONAGE_STRICT_PHONES``, any number of digits, spaces and ``+ - . ( )``, stored as sent (SPEC §7)."""
    settings = (info.context or {}).get("settings")
    strict = bool(settings is not None and settings.strict_phones)
    if not value.startswith("+") and not strict:
        if not _LOOSE_PHONE.fullmatch(value) or sum(char.isdigit() for char in value) < 3:
            raise _fail("must be a phone number: digits, spaces and + - . ( ), at least 3 digits")
        return value
    if not _E164.match(value):
        raise _fail("must be in E.164 format: + then 8 to 15 digits")
    try:
        possible = phonenumbers.is_possible_number(phonenumbers.parse(value))
    except phonenumbers.NumberParseException:
        possible = False
    if not possible:
        raise _fail("is not a possible phone number")
    return value


def _country(value: str) -> str:
    if len(value) != 2 or pycountry.countries.get(alpha_2=value.upper()) is None:
        raise _fail("must be an ISO 3166-1 alpha-2 country code")
    return value.upper()


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _past_date(value: str) -> date:
    try:
        if not _DATE.match(value):
            raise ValueError
        parsed = date.fromisoformat(value)
    except ValueError:
        raise _fail("must be a date in the format YYYY-MM-DD") from None
    if parsed > datetime.now(UTC).date():
        raise _fail("can't be in the future")
    return parsed


# SPEC §5's syntax for a decimal string: an optional sign, ASCII digits, one optional decimal point. Python's
# Decimal() alone would also take "1_000", " 5 ", Arabic-Indic digits, "NaN" and "Infinity".
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def exact_decimal(value: Any) -> Decimal:
    """A JSON number (already a Decimal or int) or a decimal string; never a bool, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _fail("must be a decimal number")
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        raise _fail("must be a decimal number (digits, an optional sign and decimal point)")
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        raise _fail("must be a decimal number") from None
    if not number.is_finite():
        raise _fail("must be a finite decimal number")
    return number


# Loyalty points (seed §3-4): at most 6 decimal places, and |points| < 10**12 so that 10**18 micro-points fit
# a signed 64-bit integer. One type for card operations and an order's points.
POINTS_DECIMALS = 6
MAX_POINTS = 10**12


def _points(value: Any) -> Decimal:
    number = exact_decimal(value)
    if abs(number) >= MAX_POINTS:
        raise _fail(f"must be smaller than {MAX_POINTS} in absolute value")
    if number != number.quantize(Decimal(1).scaleb(-POINTS_DECIMALS)):
        raise _fail(f"must have at most {POINTS_DECIMALS} decimal places")
    return number


def _delta(value: Any) -> Decimal:
    number = _points(value)
    if number == 0:
        raise _fail("must not be zero")
    return number


# A zero written with a minus sign: not negative ("-0.0" passes a "must not be negative" check).
_NEGATIVE_ZERO = r"-(0+(\.0*)?|\.0+)"


def decimal_schema(
    *,
    digits: int,
    decimals: int,
    sign: Literal["any", "not negative", "positive"] = "any",
    nonzero: bool = False,
    up_to: bool = False,
    description: str,
    examples: list[str],
) -> dict[str, Any]:
    """What a decimal field accepts (SPEC §5: a string or a JSON number) as a schema: under ``10**digits`` in
    absolute value (``up_to``: up to and including it), at most ``decimals`` decimal places. A string's pattern
    is ``_DECIMAL_TEXT`` within those bounds (leading and trailing zeros allowed); a number's bounds and
    ``multipleOf`` say the same of a JSON number."""
    fraction = rf"(\.[0-9]{{0,{decimals}}}0*)?"
    if nonzero or sign == "positive":
        magnitude = rf"0*[1-9][0-9]{{0,{digits - 1}}}{fraction}|0*\.[0-9]{{0,{decimals - 1}}}[1-9]0*"
    else:
        magnitude = rf"0*[0-9]{{1,{digits}}}{fraction}|0*\.[0-9]{{1,{decimals}}}0*"
    if up_to:
        magnitude += rf"|0*1{'0' * digits}(\.0*)?"
    signs = {
        "any": rf"^[+-]?({magnitude})$",
        "positive": rf"^\+?({magnitude})$",
        "not negative": rf"^(\+?({magnitude})|{_NEGATIVE_ZERO})$",
    }
    bound = 10**digits
    lower = {"any": -bound, "positive": 0, "not negative": 0}[sign]
    number: dict[str, Any] = {
        "maximum" if up_to else "exclusiveMaximum": bound,
        "minimum" if sign == "not negative" or (sign == "any" and up_to) else "exclusiveMinimum": lower,
        "multipleOf": float(f"1e-{decimals}"),  # written 1e-06: exact for readers that keep decimals
    }
    schema = {
        "type": ["string", "number"],
        "pattern": signs[sign],  # applies to a string only, the number's keywords to a number only
        **number,
        "description": description,
        "examples": examples,
    }
    if nonzero:
        schema["not"] = {"const": 0}
    return schema


_POINTS_DESCRIPTION = "A decimal (a string, or a JSON number): under 10^12, at most 6 decimal places"
POINTS_SCHEMA = decimal_schema(digits=12, decimals=POINTS_DECIMALS, description=_POINTS_DESCRIPTION, examples=["4.2"])
Points = Annotated[Decimal, BeforeValidator(_points), WithJsonSchema(POINTS_SCHEMA)]
Delta = Annotated[
    Decimal,
    BeforeValidator(_delta),
    WithJsonSchema(
        decimal_schema(
            digits=12,
            decimals=POINTS_DECIMALS,
            nonzero=True,
            description=_POINTS_DESCRIPTION + ", not zero",
            examples=["4.2", "-10"],
        )
    ),
]


_MAX_COORDINATE_DECIMALS = 28


def _coordinate(limit: int):
    def check(value: Any) -> str:
        number = exact_decimal(value)
        if not -limit <= number <= limit:
            raise _fail(f"must be between -{limit} and {limit}")
        # Counted before rendering: "1e-999999999" renders as a billion characters (seconds of CPU and
        # a gigabyte per request). Trailing zeros of the digits don't count ("1.000e-5" is 0.00001).
        _, digits, exponent = number.as_tuple()
        if not number.is_zero() and isinstance(exponent, int):
            trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
            if exponent + trailing_zeros < -_MAX_COORDINATE_DECIMALS:
                raise _fail("has too many digits")
        text = render_decimal(number.quantize(Decimal(1)) if number.is_zero() else number)
        if len(text) > 30:
            raise _fail("has too many digits")
        return text

    return check


# The JSON schemas say what the validators check, as far as a schema can (client generators, fuzzers).
Email = Annotated[
    Str255,
    AfterValidator(_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254, "examples": ["jeff.smith@hubrise.com"]}),
]
Phone = Annotated[
    str,
    StringConstraints(strict=True, max_length=32),
    AfterValidator(_phone),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 32,
            "description": "E.164 (+ then 8 to 15 digits, a number libphonenumber deems possible), or digits,"
            " spaces and + - . ( ) as HubRise accepts them (at least 3 digits)",
            "pattern": r"^(\+[0-9]{8,15}|[0-9 .()-][0-9 +.()-]*)$",
            "examples": ["+33612345678", "06 12 34 56 78"],
        }
    ),
]
# The ISO 3166-1 alpha-2 codes in any case (stored upper-case); a pattern, so that generated clients keep a string.
_COUNTRY_PATTERN = "^(?:{})$".format(
    "|".join("".join(f"[{c}{c.lower()}]" for c in code) for code in sorted(c.alpha_2 for c in pycountry.countries))
)
Country = Annotated[
    str,
    StringConstraints(strict=True),
    AfterValidator(_country),
    WithJsonSchema({"type": "string", "pattern": _COUNTRY_PATTERN, "examples": ["FR"]}),
]
PastDate = Annotated[
    date,
    BeforeValidator(lambda v: _past_date(v) if isinstance(v, str) else _reject_date(v)),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["1974-05-12"]}),
]


# Whole numbers below each limit, as a pattern.
_BELOW = {90: "[0-9]|[1-8][0-9]", 180: "[0-9]|[1-9][0-9]|1[0-7][0-9]"}


def _coordinate_schema(limit: int, example: str) -> dict[str, Any]:
    # A coordinate may have 28 decimal places but at most 30 characters as rendered: with a minus sign and the
    # widest whole part, 28 - len(str(limit)) places always fit, and the schema says that many.
    places = 28 - len(str(limit))
    fraction = rf"\.[0-9]{{0,{places}}}0*"
    return {
        "type": ["string", "number"],
        "pattern": rf"^[+-]?(0*({_BELOW[limit]})({fraction})?|0*{limit}(\.0*)?|0*\.[0-9]{{1,{places}}}0*)$",
        "minimum": -limit,  # the bounds apply to a number, the pattern to a string
        "maximum": limit,
        "multipleOf": float(f"1e-{places}"),
        "description": f"A decimal (a string, or a JSON number) between -{limit} and {limit}, at most"
        f" {_MAX_COORDINATE_DECIMALS} decimal places and 30 characters as rendered",
        "examples": [example],
    }


Latitude = Annotated[str, BeforeValidator(_coordinate(90)), WithJsonSchema(_coordinate_schema(90, "48.8589507"))]
Longitude = Annotated[str, BeforeValidator(_coordinate(180)), WithJsonSchema(_coordinate_schema(180, "2.2770201"))]


def _reject_date(_: Any) -> date:
    raise _fail("must be a date in the format YYYY-MM-DD")


# Times in a query string (``?as_of=``, ``?after=``), read by formats.parse_time: the document shows the RFC 3339
# form; a time without offset (in the resource's time zone) is accepted too, and where a date is, a date alone.
_TIME_SCHEMA = {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN}
QueryTime = Annotated[str, WithJsonSchema({**_TIME_SCHEMA, "examples": ["2020-06-25T11:43:51+02:00"]})]
QueryTimeOrDate = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [_TIME_SCHEMA, {"type": "string", "format": "date", "pattern": YEAR_PATTERN}],
            "examples": ["2020-06-25T11:43:51+02:00", "2020-06-25"],
        }
    ),
]
