"""Registration form wire shapes (`@wix/auto_sdk_events_forms` 1.0.108, `wix.events.form.FormBuilder`).

Every bound is the typings' (`@maxLength`, `@minSize`, `@maxSize`, `@max`), kept in
limits.py; a message string, which the typings leave unbounded, is bounded there too."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from .. import limits
from ..schemas import WixModel

ID_MAX = 100
ShortLabel = Annotated[str, Field(max_length=limits.FORM_SHORT_LABEL_MAX)]
Label = Annotated[str, Field(max_length=limits.FORM_LABEL_MAX)]
Option = Annotated[str, Field(min_length=1, max_length=limits.FORM_OPTION_MAX)]
Message = Annotated[str, Field(max_length=limits.FORM_MESSAGE_MAX)]


# --- the controls a request may carry (one of) ------------------------------------------


class PhoneControl(WixModel):
    label: ShortLabel | None = None
    mandatory: bool | None = None


class AddressControlLabels(WixModel):
    address_line: ShortLabel | None = None
    country: ShortLabel | None = None
    subdivision: ShortLabel | None = None
    city: ShortLabel | None = None
    postal_code: ShortLabel | None = None
    street_address: ShortLabel | None = None


class AddressControl(WixModel):
    labels: AddressControlLabels | None = None
    full: bool | None = None
    mandatory: bool | None = None


class DateControl(WixModel):
    label: ShortLabel | None = None
    mandatory: bool | None = None


class GuestLabels(WixModel):
    single: Label | None = None
    multiple: Label | None = None


class AdditionalGuestsControl(WixModel):
    labels: GuestLabels | None = None
    names_mandatory: bool | None = None
    max_guests: int | None = Field(None, ge=1, le=limits.FORM_MAX_GUESTS)


class OptionSelection(WixModel):
    option_index: int | None = Field(None, ge=0, le=limits.FORM_OPTIONS_MAX - 1)
    placeholder_text: str | None = Field(None, max_length=200)


class DropdownControl(WixModel):
    label: Label | None = None
    options: list[Option] | None = Field(None, max_length=limits.FORM_OPTIONS_MAX)
    mandatory: bool | None = None
    default_option_selection: OptionSelection | None = None


class RadioButtonControl(WixModel):
    label: Label | None = None
    options: list[Option] | None = Field(None, max_length=limits.FORM_OPTIONS_MAX)


class CheckboxControl(WixModel):
    label: Label | None = None
    mandatory: bool | None = None
    options: list[Option] | None = Field(None, max_length=limits.FORM_OPTIONS_MAX)


class TextControl(WixModel):
    label: Label | None = None
    mandatory: bool | None = None
    max_length: int | None = Field(None, ge=1, le=limits.FORM_TEXT_MAX_LENGTH)
    multi_line: bool | None = None
    comment: bool | None = None


class NameControlLabels(WixModel):
    first_name: ShortLabel | None = None
    last_name: ShortLabel | None = None


class NameControl(WixModel):
    labels: NameControlLabels | None = None


class EmailControl(WixModel):
    label: ShortLabel | None = None


# The one-of fields, by their wire names, that Add Control takes (Update Control also
# takes `name` and `email`, the system controls').
ADDABLE = ("phone", "address", "date", "additionalGuests", "dropdown", "checkbox", "text", "radioButton")


class AddControlRequest(WixModel):
    """`eventId` repeats the path (ignored). Exactly one control."""

    event_id: str | None = Field(None, max_length=ID_MAX)
    phone: PhoneControl | None = None
    address: AddressControl | None = None
    date: DateControl | None = None
    additional_guests: AdditionalGuestsControl | None = None
    dropdown: DropdownControl | None = None
    checkbox: CheckboxControl | None = None
    text: TextControl | None = None
    radio_button: RadioButtonControl | None = None


class UpdateControlRequest(AddControlRequest):
    """PUT: the control's settings are replaced by the one given (of its own kind);
    ``orderIndex`` moves it among the custom controls. `id` repeats the path (ignored)."""

    id: str | None = Field(None, max_length=ID_MAX)
    order_index: int | None = Field(None, ge=0, le=1_000_000)
    name: NameControl | None = None
    email: EmailControl | None = None


# --- messages ---------------------------------------------------------------------------


class PositiveResponseConfirmation(WixModel):
    title: Message | None = None
    message: Message | None = None
    add_to_calendar_action_label: Message | None = None
    share_action_label: Message | None = None


class NegativeResponseConfirmation(WixModel):
    title: Message | None = None
    share_action_label: Message | None = None


class Positive(WixModel):
    title: Message | None = None
    confirmation: PositiveResponseConfirmation | None = None


class Negative(WixModel):
    title: Message | None = None
    confirmation: NegativeResponseConfirmation | None = None


class RsvpFormMessages(WixModel):
    rsvp_yes_option: Message | None = None
    rsvp_no_option: Message | None = None
    positive_messages: Positive | None = None
    waitlist_messages: Positive | None = None
    negative_messages: Negative | None = None
    submit_action_label: Message | None = None


class ResponseConfirmation(WixModel):
    title: Message | None = None
    message: Message | None = None
    download_tickets_label: Message | None = None
    add_to_calendar_label: Message | None = None
    share_event_label: Message | None = None


class CheckoutFormMessages(WixModel):
    title: Message | None = None
    submit_action_label: Message | None = None
    confirmation: ResponseConfirmation | None = None


class ExploreMessages(WixModel):
    message: Message | None = None
    explore_events_action_label: Message | None = None


class FormMessages(WixModel):
    rsvp: RsvpFormMessages | None = None
    checkout: CheckoutFormMessages | None = None
    registration_closed: ExploreMessages | None = None
    tickets_unavailable: ExploreMessages | None = None


class UpdateMessagesRequest(WixModel):
    """`fields`: a field mask (the SDK joins it with commas), paths inside ``messages``
    such as ``checkout.title``; empty means a full update."""

    event_id: str | None = Field(None, max_length=ID_MAX)
    fields: str | list[Annotated[str, Field(max_length=200)]] | None = Field(None, max_length=100)
    messages: FormMessages | None = None


# --- responses --------------------------------------------------------------------------


class InputOut(WixModel):
    name: str
    array: bool
    label: str
    additional_labels: dict[str, str]
    options: list[str]
    mandatory: bool
    max_length: int | None = None
    type: str
    max_size: int | None = None
    default_option_selection: dict[str, Any] | None = None
    labels: list[dict[str, str]] | None = None


class InputControlOut(WixModel):
    type: str
    system: bool
    name: str
    inputs: list[InputOut]
    label: str
    order_index: int
    id: str
    deleted: bool | None = None


class FormOut(WixModel):
    controls: list[InputControlOut]
    messages: dict[str, Any]


class GetFormResponse(WixModel):
    form: FormOut
    draft_form: FormOut


class FormResponse(WixModel):
    form: FormOut


class AddControlResponse(WixModel):
    id: str
    form: FormOut
