-- GET of a uniformly random key among the seeded ones, spread over 1,000 services (see seed-*.sql).
-- wrk -t2 -c16 -d20s --latency -s benchmarks/storage/get-uncached.lua http://127.0.0.1:18081 -- <keys> <token>
-- With RATE=<requests per second> in the environment, each of wrk's connections waits connections / RATE seconds between
-- its requests, so that latency is measured at a load the server keeps up with rather than at saturation:
-- RATE=1000 wrk -t1 -c10 -d20s --latency -s benchmarks/storage/get-uncached.lua http://127.0.0.1:18081 -- <keys> <token> 10

local keys = 10000000
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
    if rate then
        pause = 1000 * tonumber(args[3] or 10) / rate
    end
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
    local i = math.random(0, keys - 1)
    return wrk.format("GET", string.format("/api/v1/config/svc-%d/prod/key-%d", i % 1000, i))
end

local non200 = 0

function response(status, headers, body)
    if status ~= 200 then
        non200 = non200 + 1
    end
end

function done(summary, latency, requests)
    io.write(string.format("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms, %.0f requests/s\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000, summary.requests / (summary.duration / 1e6)))
    io.write(string.format("requests %d, non-2xx or errors %d\n", summary.requests,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
