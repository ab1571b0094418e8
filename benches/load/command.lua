-- A command as case officers send them: an internal note on a case (POST
-- /api/applications/{id}/messages), round robin over the demo researcher's applications.
-- __TOKEN__ and __IDS__ are filled in by benches/load.rs.
local headers = {["Authorization"] = "Bearer __TOKEN__", ["Content-Type"] = "application/json"}
local ids = {__IDS__}
local n = 0
math.randomseed(os.time())
request = function()
  n = n + 1
  local id = ids[(n + math.random(#ids)) % #ids + 1]
  return wrk.format("POST", "/api/applications/" .. id .. "/messages", headers,
    '{"body": "Notat fra belastningsmålingen.", "internal": true}')
end
