-- PUT of a new value to a uniformly random seeded key: every request is one committed change (one revision).
-- wrk -t2 -c16 -d20s --latency -s benchmarks/storage/put-random-key.lua http://127.0.0.1:18081 -- <keys> <token>

local keys = 10000000

function init(args)
    keys = tonumber(args[1] or keys)
    wrk.headers["Authorization"] = "Bearer " .. args[2]
    wrk.headers["Content-Type"] = "application/json"
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
    local i = math.random(0, keys - 1)
    return wrk.format("PUT", string.format("/api/v1/config/svc-%d/prod/key-%d", i % 1000, i), nil,
        string.format('{"config_value": "v-%d"}', math.random(0, 1000000000)))
end

function done(summary, latency, requests)
    io.write(string.format("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms, %.0f writes/s\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000, summary.requests / (summary.duration / 1e6)))
    io.write(string.format("requests %d, non-2xx or errors %d\n", summary.requests,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
