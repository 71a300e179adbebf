-- Key search over the seeded keys (see seed-*.sql), one page of 50, in one of three modes (the third argument):
--   prefix   by a random key's prefix without its last three digits, across all 1,000 services: "KEY-1234" matches up to
--            1,111 keys (key-1234, key-12340..12349, ...), of which the page holds the first 50;
--   service  the same prefix within the random key's service, where it matches one or a few keys;
--   text     by five digits from the middle of a random key (q=), across all services: not a prefix, so no index range
--            narrows it, and some 300 keys hold them, which the substring index finds;
--   common   by three digits from the middle of a random key (q=): some 50,000 keys hold them, more than the substring
--            index is read for (Keel:Search:MaxIndexedCandidates), so the page walks keys in order until it fills.
-- Prefixes are sent in upper case, so every prefix search folds case.
-- wrk -t2 -c16 -d20s --latency -s benchmarks/storage/search.lua http://127.0.0.1:18081 -- <keys> <token> <mode>
-- With RATE=<searches per second> in the environment, each connection waits connections / RATE seconds between its
-- searches, as in get-uncached.lua, so that latency is the search's own rather than a queue's:
-- RATE=50 wrk -t1 -c4 -d20s --latency -s benchmarks/storage/search.lua http://127.0.0.1:18081 -- <keys> <token> text 4

local keys = 10000000
local mode = "prefix"
local rate = tonumber(os.getenv("RATE") or "")
local pause = 0

-- wrk looks for delay() before init runs, so whether it exists is settled here, from the environment.
if rate then
    function delay()
        return pause
    end
end

function init(args)
    keys = tonumber(args[1] or keys)
    wrk.headers["Authorization"] = "Bearer " .. args[2]
    mode = args[3] or mode
    if rate then
        pause = 1000 * tonumber(args[4] or 4) / rate
    end
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
    local i = math.random(keys / 10, keys - 1)
    local digits = tostring(i)
    if mode == "text" then
        return wrk.format("GET", "/api/v1/search?limit=50&q=" .. digits:sub(2, 6))
    end
    if mode == "common" then
        return wrk.format("GET", "/api/v1/search?limit=50&q=" .. digits:sub(3, 5))
    end

    local path = "/api/v1/search?limit=50&prefix=KEY-" .. digits:sub(1, math.max(1, #digits - 3))
    if mode == "service" then
        path = path .. string.format("&service_name=svc-%d", i % 1000)
    end
    return wrk.format("GET", path)
end

function done(summary, latency, requests)
    io.write(string.format("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms, %.0f searches/s\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000, summary.requests / (summary.duration / 1e6)))
    io.write(string.format("requests %d, non-2xx or errors %d\n", summary.requests,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
