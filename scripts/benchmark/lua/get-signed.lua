-- 4 KiB GETs signed in the Authorization header, a different signature on every request (as SDKs
-- send them): wrk can not sign, so scripts/bench writes one request per line into a file
-- (args[1]): the path, then each header as `name: value`, separated by tabs. Each of the args[2]
-- wrk threads takes every args[2]-th line, starting at its index, builds the raw requests once,
-- and starts over when its share runs out.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  reqs = {}
  local nthreads = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    if n % nthreads == (tid or 0) then
      local path = nil
      local headers = {}
      for field in string.gmatch(line, "[^\t]+") do
        if path == nil then
          path = field
        else
          local colon = string.find(field, ": ", 1, true)
          local name = string.sub(field, 1, colon - 1)
          -- wrk.format adds its own Host unless the table has one under that exact name.
          if name == "host" then name = "Host" end
          headers[name] = string.sub(field, colon + 2)
        end
      end
      reqs[#reqs + 1] = wrk.format("GET", path, headers)
    end
    n = n + 1
  end
  i = 0
end
function request()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
