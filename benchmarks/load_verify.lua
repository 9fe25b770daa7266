-- wrk script for benchmarks/load_verify.py: POST /verify, one pre-minted access token per request.
-- Arguments (after `--`): <tokens file> <number of wrk threads> <path> <phone number>
-- Thread k of n uses tokens k, k+n, k+2n, ... so no token is ever sent twice.

local thread_count = 0
local threads = {}

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  stride = tonumber(args[2])
  path = args[3]
  body = '{"phoneNumber": "' .. args[4] .. '"}'
  index = thread_id
  exhausted = 0
  non200 = 0
end

function request()
  local token = tokens[index]
  index = index + stride
  if token == nil then
    exhausted = exhausted + 1
    token = "exhausted"
  end
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, response_body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local exhausted_total, non200_total = 0, 0
  for _, thread in ipairs(threads) do
    exhausted_total = exhausted_total + (thread:get("exhausted") or 0)
    non200_total = non200_total + (thread:get("non200") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'NV_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "status_errors": %d, ' ..
    '"non200": %d, "tokens_exhausted": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, e.status, non200_total, exhausted_total))
end
