-- The status page of an application (GET /applications/{id}) as its applicant, round-robin over
-- the applicant's applications. __IDS__ and __COOKIE__ are filled in by benches/load.rs.
local ids = {__IDS__}
local cookie = "__COOKIE__"
local n = 0
math.randomseed(os.time())
request = function()
  n = n + 1
  return wrk.format("GET", "/applications/" .. ids[(n + math.random(#ids)) % #ids + 1], {["Cookie"] = cookie})
end
