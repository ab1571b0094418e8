-- A submit as the API does it: POST /api/applications (a complete aggregated form), then
-- POST /api/applications/{id}/submit for the draft it made. Each connection alternates, so half
-- the requests are creates and half submits; `done` prints the submits counted per thread.
-- __TOKEN__ and __FORM__ are filled in by benches/load.rs.
local headers = {["Authorization"] = "Bearer __TOKEN__", ["Content-Type"] = "application/json"}
local form = [==[__FORM__]==]
local pending = {}
local threads = {}
submitted = 0
failed = 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  local id = table.remove(pending)
  if id then
    return wrk.format("POST", "/api/applications/" .. id .. "/submit", headers, "{}")
  end
  return wrk.format("POST", "/api/applications", headers, form)
end

function response(status, hdrs, body)
  if status == 201 then
    local id = body:match('"id":(%d+),"in') or body:match('^{"id":(%d+)')
    if id then table.insert(pending, id) else failed = failed + 1 end
  elseif status == 200 then
    submitted = submitted + 1
  else
    failed = failed + 1
    if failed < 3 then io.stderr:write("submit: HTTP " .. status .. " " .. body:sub(1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local s, f = 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("submitted")
    f = f + t:get("failed")
  end
  io.write(string.format("submits: %d failed: %d\n", s, f))
end
