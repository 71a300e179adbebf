-- Cached GET of a random key among the loaded ones.
-- wrk -t2 -c64 -d30s --latency -s benchmarks/wrk/get-random-key.lua http://127.0.0.1:8080 -- <service> <environment> <keys> <token>

local service, environment, keys = "bench", "prod", 100000

function init(args)
    service = args[1] or service
    environment = args[2] or environment
    keys = tonumber(args[3] or keys)
    if args[4] then
        wrk.headers["Authorization"] = "Bearer " .. args[4]
    end
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
    local path = string.format("/api/v1/config/%s/%s/key-%d", service, environment, math.random(0, keys - 1))
    return wrk.format("GET", path)
end

local non200 = 0

function response(status, headers, body)
    if status ~= 200 then
        non200 = non200 + 1
    end
end

function done(summary, latency, requests)
    io.write(string.format("p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000))
    io.write(string.format("requests %d, errors %d (connect %d, read %d, write %d, status %d, timeout %d)\n",
        summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
        summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
