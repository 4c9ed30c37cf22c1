-- wrk -s bench/track.lua http://127.0.0.1:PORT/v1/track : one track event per request.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")

function request()
  return wrk.format(nil, nil, nil, event())
end
