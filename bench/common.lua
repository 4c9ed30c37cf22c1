-- Shared by track.lua and batch.lua: a realistic Segment track event (the fixture track.json, ~700 bytes) with a unique
-- messageId and userId per event, so the service neither deduplicates (D5) nor merges deliveries.
local threads = {}
function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local template = '{"type":"track","channel":"browser","context":{"ip":"198.51.100.23",' ..
  '"userAgent":"Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36","locale":"en-US",' ..
  '"library":{"name":"analytics.js","version":"next-1.70.0"},"page":{"path":"/pricing","referrer":"https://www.example.org/",' ..
  '"search":"?plan=pro","title":"Pricing","url":"https://app.example.com/pricing?plan=pro"},"timezone":"Europe/Amsterdam"},' ..
  '"integrations":{},"originalTimestamp":"2026-11-20T10:15:30.120Z","sentAt":"2026-11-20T10:15:30.500Z",' ..
  '"timestamp":"2026-11-20T10:15:30.622Z","messageId":"bench-%s-%d","anonymousId":"5a6c2e74-0b8e-4f4a-9d2c-7b1c1f0e9a11",' ..
  '"userId":"user-%s-%d","event":"Order Completed","properties":{"order_id":"ord_1009","total":129.9,"revenue":119.9,' ..
  '"currency":"EUR","products":[{"product_id":"sku_1","name":"Seat","price":59.95,"quantity":2}]}}'

counter = 0
function event()
  counter = counter + 1
  return string.format(template, prefix, counter, prefix, counter)
end

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
  prefix = string.format("%d-%d-%d", os.time(), thread_id, math.random(1, 1000000000))
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Basic " .. (os.getenv("BENCH_AUTH") or "")
end

function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
