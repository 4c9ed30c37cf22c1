-- wrk -s bench/batch.lua http://127.0.0.1:PORT/v1/batch : 100 track events per request (Tracking API batch).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")

local size = tonumber(os.getenv("BENCH_BATCH_SIZE") or "100")
function request()
  local events = {}
  for i = 1, size do events[i] = event() end
  return wrk.format(nil, nil, nil, '{"batch":[' .. table.concat(events, ",") .. ']}')
end
