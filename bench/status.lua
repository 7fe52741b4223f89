-- wrk script for bench/run.sh: counts answers whose status is not 200 (wrk itself only reports
-- 4xx/5xx, so a 303 to /login from a lost session would otherwise count as a success).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("not_ok")
  end
  io.write(string.format("not_200=%d\n", n))
end
