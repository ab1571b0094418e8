-- The soak's moderate load: each connection waits __DELAY__ ms between requests and cycles
-- through the status page, the inbox and the catalogue. Filled in by benches/load.rs.
local ids = {__IDS__}
local applicant = "__APPLICANT_COOKIE__"
local officer = "__OFFICER_COOKIE__"
local n = 0
function delay()
  return __DELAY__
end
request = function()
  n = n + 1
  local k = n % 3
  if k == 0 then
    return wrk.format("GET", "/applications/" .. ids[n % #ids + 1], {["Cookie"] = applicant})
  elseif k == 1 then
    return wrk.format("GET", "/inbox", {["Cookie"] = officer})
  end
  return wrk.format("GET", "/data-sources", nil)
end
