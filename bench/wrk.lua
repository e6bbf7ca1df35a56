-- One wrk request script for every endpoint (bench/harness.py): a random seeded customer per request.
-- BENCH_IDS: a file of "customer_id<TAB>card_id<TAB>private_ref" lines (a random sample of the seeded ones);
-- BENCH_METHOD, BENCH_PATH, BENCH_BODY (optional): templates in which @customer@, @card@, @ref@ are that
-- customer's and @n@ a random number (new emails, notes); BENCH_TOKEN: the X-Access-Token header.
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  local customer, card, ref = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
  if customer then ids[#ids + 1] = { customer, card, ref } end
end
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
local headers = { ["X-Access-Token"] = os.getenv("BENCH_TOKEN") or "" }
if body then headers["Content-Type"] = "application/json" end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(_)
  math.randomseed(os.time() * 100 + (thread_number or 0))
end

local function fill(template, row)
  local text = template:gsub("@customer@", row[1]):gsub("@card@", row[2]):gsub("@ref@", row[3])
  return (text:gsub("@n@", tostring(math.random(1, 2000000000))))
end

function request()
  local row = ids[math.random(#ids)]
  return wrk.format(method, fill(path, row), headers, body and fill(body, row) or nil)
end
