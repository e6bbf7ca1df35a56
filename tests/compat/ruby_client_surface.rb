# frozen_string_literal: true

# HubRise's own Ruby client (vendored, unchanged) used as a HubRise app uses it, against a Patronage server:
# only the hosts and ports differ from a HubRise deployment. Reads its setup as JSON on stdin (the server, the
# OAuth client, an authorisation code, an account-level token); prints one JSON document of what it observed,
# step by step. It asserts nothing: tests/compat/test_ruby_client.py does.

require "cgi" # v1.rb's create_image uses CGI without requiring it (an app, Rails for one, has it loaded)
require_relative "hubrise_ruby_client/lib/hubrise_client"

SETUP = JSON.parse($stdin.read)
OBSERVED = {}

def connect(**extra)
  HubriseClient::V1.new(
    SETUP["app_id"], SETUP["app_secret"],
    api_host: SETUP["host"], api_port: SETUP["port"], oauth_host: SETUP["host"], oauth_port: SETUP["port"],
    use_https: false, logger: Logger.new($stderr), **extra
  )
end

# What an app can read from a HubriseClient::Response, or the exception the call raised.
def seen(response)
  {
    "code" => response.code, "failed" => response.failed?, "data" => response.data,
    "cursor_next" => response.cursor_next, "error_type" => response.error_type,
    "error_message" => response.error_message, "errors" => response.errors,
  }
end

def record(name)
  OBSERVED[name] = seen(yield)
rescue HubriseClient::HubriseError => e
  OBSERVED[name] = { "raised" => e.class.name, "message" => e.message }
end

# Follows X-Cursor-Next to the end, as Response#each_page does: the codes and the ids of every page.
def record_pages(name)
  pages = yield.each_page.map { |page| { "code" => page.code, "ids" => page.data.map { |r| r["id"] } } }
  OBSERVED[name] = pages
end

def data(name)
  OBSERVED.fetch(name).fetch("data")
end

# --- OAuth: the code the user's consent produced, exchanged by the client -----------------------------------
app = connect
OBSERVED["authorization_url"] = app.build_authorization_url(SETUP["redirect_uri"], SETUP["scope"], state: "s1")
app.authorize!(SETUP["code"])
OBSERVED["authorized"] = %w[access_token account_id location_id customer_list_id catalog_id user_id app_instance_id]
                         .to_h { |field| [field, app.public_send(field)] }
begin
  connect.authorize!(SETUP["code"]) # a code is single-use
  OBSERVED["code_reused"] = { "raised" => nil }
rescue HubriseClient::HubriseError => e
  OBSERVED["code_reused"] = { "raised" => e.class.name }
end

# The app stores the token and ids, and later makes its client from them.
app = connect(access_token: app.access_token, location_id: app.location_id, account_id: app.account_id,
              customer_list_id: app.customer_list_id)
location_id = app.location_id
account_id = app.account_id

# --- locations, accounts, user ---------------------------------------------------------------------------------
record("get_location") { app.get_location }
record("get_location_by_id") { app.get_location(location_id) }
record("get_other_location") { app.get_location(SETUP["other_location_id"]) }
record("get_locations") { app.get_locations }
record("get_account_by_id") { app.get_account(account_id) }
record("get_user") { app.get_user }
record("patch_location") { app.patch_location(location_id, { preparation_time: 25, custom_fields: { pos: "ruby" } }) }
record("update_location") { app.update_location(location_id, { preparation_time: 30 }) }

# --- callback, before anything is subscribed -------------------------------------------------------------------
record("get_callback_unset") { app.get_callback }
record("update_callback") do
  app.update_callback({ url: nil, events: { customer: %w[create update], order: %w[create update] } })
end
record("get_callback") { app.get_callback }

# --- customer lists, customers ---------------------------------------------------------------------------------
record("get_customer_list") { app.get_customer_list }
record("get_location_customer_lists") { app.get_location_customer_lists(location_id) }
record("get_account_customer_lists_from_location") { app.get_account_customer_lists(account_id) }

customer_ids = (1..5).map do |i|
  record("create_customer_#{i}") do
    app.create_customer({
      first_name: "Guest#{i}", last_name: "Ruby", email: "guest#{i}@compat.example", phone: "+3361234567#{i}",
      private_ref: "crm-#{i}", email_marketing: i.odd?,
    })
  end
  data("create_customer_#{i}")["id"]
end
OBSERVED["created_customer_ids"] = customer_ids
first = customer_ids.first

record("get_all_customers") { app.get_all_customers }
record_pages("customers_pages") { app.search_customers({ count: 2 }) }
record_pages("customers_email_wildcard_pages") { app.search_customers({ email: "*@COMPAT.example", count: 3 }) }
record("search_email") { app.search_customers({ email: "GUEST3@compat.example" }) }
record("search_phone") { app.search_customers({ phone: "+33612345674" }) }
record("search_private_ref") { app.search_customers({ private_ref: "crm-2" }) }
record("search_none") { app.search_customers({ email: "nobody@compat.example" }) }
record("get_customer") { app.get_customer(first) }
record("get_customer_explicit_list") { app.get_customer(first, app.customer_list_id) }
record("update_customer") do
  app.update_customer(first, { first_name: "Renamed", custom_fields: { tier: "gold", visits: 3 } })
end
# Sending back what was read (read-only fields included), with one change: what a form-based app does.
record("update_customer_echo") { app.update_customer(first, data("update_customer").merge("last_name" => "Echoed")) }
record("create_customer_invalid") { app.create_customer({ gender: "robot", email: "not an address" }) }
record("get_customer_missing") { app.get_customer("zzzzzz") }

# --- loyalty cards and operations --------------------------------------------------------------------------------
record("create_loyalty_card") { app.create_loyalty_card({ customer_id: first, ref: "main", name: "Points" }) }
card_id = data("create_loyalty_card")["id"]
record("operation_1") { app.create_loyalty_operation(card_id, { delta: "10.5", reason: "Welcome" }) }
record("operation_2") { app.create_loyalty_operation(card_id, { delta: "-2.25", reason: "Reward" }) }
record("operation_3") { app.create_loyalty_operation(card_id, { delta: 0.75, reason: "As a JSON number" }) }
record("operation_zero") { app.create_loyalty_operation(card_id, { delta: "0", reason: "Nothing" }) }
record("create_loyalty_card_stranger") { app.create_loyalty_card({ customer_id: "zzzzzz", ref: "x" }) }

# --- orders ------------------------------------------------------------------------------------------------------
record("create_order") do
  app.create_order(location_id, {
    status: "new", private_ref: "pos-1", service_type: "collection", customer_id: first,
    items: [
      { product_name: "Margarita", sku_name: "Large", price: "9.50 EUR", quantity: "2",
        options: [{ option_list_name: "Extras", name: "Olives", price: "0.75 EUR", quantity: 1 }] },
      { product_name: "Tiramisu", price: "4.00 EUR", quantity: "1" },
    ],
    charges: [{ name: "Bag", price: "0.20 EUR" }],
    discounts: [{ name: "Welcome", price_off: "2.00 EUR" }],
    payments: [{ name: "Cash", amount: "22.70 EUR" }],
    loyalty_operations: [{ ref: "main", delta: "5", reason: "Order points" }],
  })
end
order_id = data("create_order")["id"]
record("create_guest_order") do
  app.create_order(location_id, {
    status: "new", customer: { first_name: "Walk-in", email: "walkin@compat.example" },
    items: [{ product_name: "Espresso", price: "1.80 EUR", quantity: "3" }],
  })
end
record("create_second_order") do
  app.create_order(location_id, { status: "received", customer_id: customer_ids[1],
                                   items: [{ product_name: "Soda", price: "2.50 EUR", quantity: "1" }] })
end
record("create_order_invalid") { app.create_order(location_id, { status: "teleported" }) }
record("get_order") { app.get_order(location_id, order_id) }
record("update_order") { app.update_order(location_id, order_id, { status: "accepted", seller_notes: "Via PUT" }) }
record("patch_order") { app.patch_order(location_id, order_id, { status: "completed", collection_code: "C42" }) }
record_pages("orders_pages") { app.get_orders(location_id, { count: 2 }) }
record("orders_of_customer") { app.get_orders(location_id, { customer_id: first }) }
record("orders_by_status") { app.get_orders(location_id, { status: "completed" }) }
record("get_customer_after_orders") { app.get_customer(first) }

# --- the delivery of a delivery order (deliveries.md) -------------------------------------------------------------
record("create_delivery_order") { app.create_order(location_id, { status: "accepted", service_type: "delivery" }) }
delivery_order = data("create_delivery_order")["id"]
record("get_delivery_none") { app.get_delivery(location_id, delivery_order) }
record("create_delivery") do
  app.create_delivery(location_id, delivery_order, {
    carrier: "UPS", carrier_ref: "ups", ref: "1Z12345E0291980793", status: "pending", fee: "4.50 EUR",
    estimated_pickup_at: "2023-01-01T12:00:00+01:00", driver_name: "John", driver_phone: "+33612345678",
  })
end
record("patch_delivery") do
  app.patch_delivery(location_id, delivery_order, { status: "pickup_enroute", driver_latitude: "48.856614" })
end
record("get_delivery") { app.get_delivery(location_id, delivery_order) }
record("get_delivery_order") { app.get_order(location_id, delivery_order) }

# --- another connection of the same app changes things: the first one's passive callback records it ----------
admin = connect(access_token: SETUP["account_token"])
record("get_account") { admin.get_account }
record("get_accounts") { admin.get_accounts }
record("get_account_customer_lists") { admin.get_account_customer_lists(account_id) }
record("admin_get_locations") { admin.get_locations }
record("admin_create_customer") do
  admin.create_customer({ first_name: "FromAdmin", email: "admin@compat.example" }, app.customer_list_id)
end
admin_customer = data("admin_create_customer")["id"]
record("admin_update_customer") { admin.update_customer(admin_customer, { last_name: "Changed" }, app.customer_list_id) }
record("admin_create_order") do
  admin.create_order(location_id, { status: "new", customer_id: admin_customer,
                                     items: [{ product_name: "Water", price: "1.00 EUR", quantity: "1" }] })
end
record("admin_patch_order") { admin.patch_order(location_id, data("admin_create_order")["id"], { status: "accepted" }) }

record("get_callback_events") { app.get_callback_events }
OBSERVED["delete_events"] = data("get_callback_events").map { |event| seen(app.delete_event(event["id"])) }
record("get_callback_events_after") { app.get_callback_events }
record("delete_event_again") { app.delete_event(data("get_callback_events").first["id"]) }
record("admin_get_callback_events") { admin.get_callback_events }

record("delete_callback") { app.delete_callback }
record("get_callback_deleted") { app.get_callback }

# --- catalogs, images, inventories: not Patronage's resources; called as an app would, they fail cleanly -------
catalog = "nocatalog"
OBSERVED["not_served"] = {
  "get_location_catalogs" => -> { app.get_location_catalogs(location_id) },
  "get_account_catalogs" => -> { admin.get_account_catalogs(account_id) },
  "get_catalog" => -> { app.get_catalog(catalog, hide_data: true) },
  "create_account_catalog" => -> { admin.create_account_catalog({ name: "Menu" }) },
  "create_location_catalog" => -> { app.create_location_catalog({ name: "Menu" }) },
  "update_catalog" => -> { app.update_catalog({ name: "Menu" }, catalog) },
  "create_image" => -> { app.create_image("\x89PNG\r\n".b, "image/png", catalog, private_ref: "img-1") },
  "get_images" => -> { app.get_images(catalog) },
  "get_image" => -> { app.get_image("noimage", catalog) },
  "get_image_data" => -> { app.get_image_data("noimage", catalog) },
  "get_inventory" => -> { app.get_inventory(catalog) },
  "update_inventory" => -> { app.update_inventory([{ sku_ref: "MAR", stock: "3" }], catalog, location_id) },
  "patch_inventory" => -> { app.patch_inventory([{ sku_ref: "MAR", stock: "2" }], catalog) },
}.transform_values do |call|
  seen(call.call)
rescue HubriseClient::HubriseError => e
  { "raised" => e.class.name, "message" => e.message }
end

# --- a token the server does not know ---------------------------------------------------------------------------
record("unknown_token") { connect(access_token: "0" * 32).get_location }

puts JSON.generate(OBSERVED)
