-- 4 KiB PUTs to presigned URLs of distinct keys: wrk can not sign, so scripts/bench writes one
-- presigned path per line into a file (args[1]). Each of the args[2] wrk threads takes every
-- args[2]-th path, starting at its index, and starts over when its share runs out.
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  paths = {}
  local nthreads = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    if n % nthreads == (tid or 0) then paths[#paths + 1] = line end
    n = n + 1
  end
  body = string.rep("x", 4096)
  i = 0
end
function request()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("PUT", paths[i], { ["Content-Length"] = "4096", ["Content-Type"] = "application/octet-stream" }, body)
end
