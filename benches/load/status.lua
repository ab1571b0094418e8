-- The status page of an application (GET /applications/{id}) as its applicant, round-robin over
-- the applicant's applications. __PATH__, __IDS__, __COOKIE__ and __HEADERS__ are filled in by
-- benches/load.rs (__PATH__: "/applications/", or the no-op route with the id as a query, for
-- the same requests made the same way; __HEADERS__: nothing, or a Cache-Control header asking
-- for a fresh render).
local ids = {__IDS__}
local cookie = "__COOKIE__"
local n = 0
math.randomseed(os.time())
request = function()
  n = n + 1
  return wrk.format("GET", "__PATH__" .. ids[(n + math.random(#ids)) % #ids + 1], {["Cookie"] = cookie__HEADERS__})
end
