"""Every limit on input that can grow, in one place (README "Security" lists them).

Why one module: a limit scattered over schemas and services is a limit nobody can
review. Each value here is what a request may carry at most; above it the request is
refused with a 400 (413 for the body as a whole) before anything is built or written.
"""

from __future__ import annotations

# --- the request as a whole ---------------------------------------------------------
# Bytes of one request body (BOXOFFICE_MAX_BODY_BYTES overrides it); 413 above it.
MAX_BODY_BYTES = 1_000_000
# Nesting depth of any JSON a client sends (body, the SDK's `.r` parameter, free-form maps).
MAX_JSON_DEPTH = 32

# Characters of the SDK's `.r` GET parameter (base64url JSON of the request): a handful
# of ids and options, a few hundred bytes; 16 KiB is also what a proxy in front allows.
MAX_R_CHARS = 16_384

# --- the query language (query.py) --------------------------------------------------
# Field conditions ("leaves") in one filter, however they are nested.
FILTER_MAX_LEAVES = 200
# Nesting of $and / $or / $not.
FILTER_MAX_DEPTH = 10
# Values in one $in / $nin.
FILTER_MAX_IN = 500
# Values bound into the SQL of one filter, all leaves together.
FILTER_MAX_VALUES = 1_000
# Sort items in one query.
SORT_MAX_ITEMS = 10
# Offset paging: Wix's own lists refuse deep offsets too; cursors reach further cheaply.
MAX_OFFSET = 100_000

# --- free-form maps a buyer sends (reservation tags, extendedFields) ----------------
# Serialised size of one such map, its nesting depth, and its keys at any one level.
FREEFORM_MAX_BYTES = 16_384
FREEFORM_MAX_DEPTH = 8
FREEFORM_MAX_KEYS = 100

# --- money ----------------------------------------------------------------------------
# A price (ticket, price option, guest price), in cents: 1,000,000.00 is refused.
MAX_PRICE_CENTS = 100_000_000
# An order's total, in cents (all its tickets and fees): 10,000,000.00 is refused.
MAX_ORDER_TOTAL_CENTS = 1_000_000_000

# --- what one event or site may hold (each also a Wix rule where the typings give one) --
# Policies per event (the typings: "up to 3 policies per event").
POLICIES_PER_EVENT = 3
# Schedule items in one event's draft (the typings give none).
SCHEDULE_ITEMS_PER_EVENT = 500
# Categories per site (the typings give none).
CATEGORIES_PER_SITE = 100

# --- registration forms (forms/) ------------------------------------------------------
# Controls in one event's form, the two fixed ones (name, e-mail) included (the typings give none).
FORM_CONTROLS_PER_EVENT = 50
# Characters of a control's label: 200 for text, dropdown, radio, checkbox and the
# additional-guests labels; 100 for phone, date, address, name and e-mail (the typings).
FORM_LABEL_MAX = 200
FORM_SHORT_LABEL_MAX = 100
# Options of a dropdown / radio (2-200) or checkbox (1-200) control, each 1-200 characters (the typings).
FORM_OPTIONS_MAX = 200
FORM_OPTION_MAX = 200
# A text control's maxLength (the typings: at most 1000; also its default when not given).
FORM_TEXT_MAX_LENGTH = 1000
# Additional guests one guest may bring (the typings: 1-10).
FORM_MAX_GUESTS = 10
# Characters of one form message (titles, labels, texts; the typings give none).
FORM_MESSAGE_MAX = 1000

# --- event staff (staff_members/) --------------------------------------------------------
# Staff members per site (the typings give none).
STAFF_MEMBERS_PER_SITE = 500
# Events one staff member is assigned to by name (the typings: specificEvents.events @maxSize 50).
STAFF_EVENTS_PER_MEMBER = 50
# Devices one staff member stays logged in on: each Login/Join makes a key; the one past
# this many logs the oldest device out (the typings give none).
STAFF_DEVICES_PER_MEMBER = 20

# --- webhooks ---------------------------------------------------------------------------
# Subscriptions per site.
MAX_SUBSCRIPTIONS_PER_SITE = 50

# --- bulk selling methods (reservations/, orders/, tickets/) ----------------------------
# Tag ids in one tag list (privateTags / tags) of a reservation, on a request and after a
# change (the typings: tagIds @maxSize 100), and characters of one tag id (the typings
# say 5, which no real tag id (a GUID) fits: 36 is what a GUID needs).
RESERVATION_TAGS_MAX = 100
RESERVATION_TAG_ID_MAX_CHARS = 36
# Reservations one Bulk Update Ticket Reservation Tags names (the typings: ids 1-100).
BULK_RESERVATION_IDS_MAX = 100
# Reservations one Bulk Update Ticket Reservation Tags By Filter changes in its single
# transaction (the typings give none; above it the call is refused: narrow the filter).
BULK_TAGS_BY_FILTER_MAX = 5_000
# Orders one Bulk Update Orders names (the typings: orderNumber @maxSize 100).
BULK_ORDERS_MAX = 100
# Tickets one Bulk Update Tickets names (the typings give the same bound as check-in: 100).
BULK_TICKETS_MAX = 100

# The pages (pages/): a signed-in browser stays signed in this long; a site keeps at most
# this many live page sessions (the oldest go at the next sign-in); a login link printed
# by `boxoffice dashboard-link` works once, within this many minutes.
PAGE_SESSION_HOURS = 12
PAGE_SESSIONS_PER_SITE = 1_000
LOGIN_LINK_MINUTES = 15
# the door scanner's offline list: at most this many tickets of one event per download
SCANNER_OFFLINE_TICKETS_MAX = 50_000
# ... and at most this many offline scans sent back in one sync request
SCANNER_SYNC_BATCH_MAX = 200
