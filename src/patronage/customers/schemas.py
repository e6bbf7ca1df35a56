"""What a client may send for a customer (seed §2.3, SPEC §7)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from patronage.bodies import BodyModel
from patronage.custom_fields import CustomFields
from patronage.validators import Country, Email, Latitude, Longitude, PastDate, Phone, Str255, Str1000

# Fields the server computes: echoed with their current value they are ignored (SPEC §7).
READ_ONLY = (
    "id",
    "customer_list_id",
    "anonymised",
    "created_at",
    "nb_orders",
    "order_total",
    "first_order_date",
    "last_order_date",
    "loyalty_cards",
)

# Nulled by anonymisation, and silently ignored in later updates.
ANONYMISED_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "company_name",
    "phone",
    "phone_access_code",
    "address_1",
    "address_2",
    "postal_code",
    "latitude",
    "longitude",
    "delivery_notes",
)


class CustomerFields(BodyModel):
    """Every field optional; on update only the fields sent change (``model_fields_set``)."""

    read_only = READ_ONLY

    private_ref: Str255 | None = None
    email: Email | None = None
    first_name: Str255 | None = None
    last_name: Str255 | None = None
    gender: Literal["male", "female"] | None = None
    birth_date: PastDate | None = None
    company_name: Str255 | None = None
    phone: Phone | None = None
    phone_access_code: Str255 | None = None
    address_1: Str255 | None = None
    address_2: Str255 | None = None
    postal_code: Str255 | None = None
    city: Str255 | None = None
    state: Str255 | None = None
    country: Country | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    delivery_notes: Str1000 | None = None
    sms_marketing: StrictBool = False
    email_marketing: StrictBool = False
    custom_fields: CustomFields | None = None


class CustomerCreate(CustomerFields):
    pass


class CustomerUpdate(CustomerFields):
    echo_read_only = True


class NoFields(BaseModel):
    """A body with nothing to say (anonymise): it must still be a JSON object, its fields are ignored."""

    model_config = ConfigDict(extra="ignore")


# --- what the server sends -------------------------------------------------------------------------------


class CardSummaryOut(BaseModel):
    id: str
    ref: str | None
    name: str | None
    balance: str = Field(examples=["125.0"])


class CustomerOut(BaseModel):
    id: str = Field(examples=["ag8u4"])
    customer_list_id: str
    anonymised: bool
    private_ref: str | None
    email: str | None = Field(examples=["jeff.smith@hubrise.com"])
    first_name: str | None
    last_name: str | None
    gender: Literal["male", "female"] | None
    birth_date: str | None = Field(examples=["1974-05-12"])
    created_at: str = Field(examples=["2017-01-12T11:32:08+00:00"])
    company_name: str | None
    phone: str | None = Field(examples=["+33612345678"])
    phone_access_code: str | None
    address_1: str | None
    address_2: str | None
    postal_code: str | None
    city: str | None
    state: str | None
    country: str | None = Field(examples=["FR"])
    latitude: str | None = Field(examples=["48.8589507"])
    longitude: str | None = Field(examples=["2.2770201"])
    delivery_notes: str | None
    sms_marketing: bool
    email_marketing: bool
    nb_orders: int
    order_total: str = Field(examples=["128.50 EUR"])
    first_order_date: str | None
    last_order_date: str | None
    loyalty_cards: list[CardSummaryOut]
    custom_fields: dict[str, Any]
