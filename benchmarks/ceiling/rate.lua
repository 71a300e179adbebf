-- GETs of random keys at a fixed total rate: each of wrk's connections waits connections / rate seconds between its
-- requests, so that latency is measured at a load the server keeps up with rather than at saturation.
-- wrk -t1 -c10 -d15s --latency -s benchmarks/ceiling/rate.lua http://127.0.0.1:8080 -- <service> <environment> <keys> <token> <rate> <connections>

local service, environment, keys, pause = "bench", "prod", 10000, 10

function init(args)
    service = args[1] or service
    environment = args[2] or environment
    keys = tonumber(args[3] or keys)
    if args[4] and args[4] ~= "" then
        wrk.headers["Authorization"] = "Bearer " .. args[4]
    end
    pause = 1000 * tonumber(args[6] or 10) / tonumber(args[5] or 1000)
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function delay()
    return pause
end

function request()
    return wrk.format("GET", string.format("/api/v1/config/%s/%s/key-%d", service, environment, math.random(0, keys - 1)))
end

function done(summary, latency, requests)
    io.write(string.format("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms, %.0f req/s\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000, summary.requests / (summary.duration / 1e6)))
end
