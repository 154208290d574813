--[[
  Puts resources into the index (ResourceIndex.put): each replaces the resource of its type and
  id, with its terms and sort key. The whole batch is one script, so readers never see half of it.

  Input:
    KEYS[1] an index key of the batch (Cluster slot routing; every key has the {<prefix>:fhir} tag)

    ARGV, per resource (IndexScripts.put):
      jsonKey, termsKey, allKey, sortKey, id, json, started ('' = none),
      nSets, that many set keys,
      nDates, that many (sorted set key, score, k) triples

  Output:
    the number of resources put
]]
--- @include "includes/unindex"

local i = 1
local n = 0
while i <= #ARGV do
  local jsonKey, termsKey, allKey, sortKey = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local id, json, started = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  i = i + 7
  unindex(termsKey, id)
  redis.call('SET', jsonKey, json)
  redis.call('ZADD', allKey, 0, id)
  if started == '' then redis.call('ZREM', sortKey, id) else redis.call('ZADD', sortKey, started, id) end
  local entries = {}
  local nSets = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, nSets do
    local key = ARGV[i]
    i = i + 1
    redis.call('SADD', key, id)
    entries[#entries + 1] = 's:' .. key
  end
  local nDates = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, nDates do
    local key, score, k = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    i = i + 3
    redis.call('ZADD', key, score, k .. ':' .. id)
    entries[#entries + 1] = 'z:' .. k .. ':' .. key
  end
  for j = 1, #entries, 500 do
    redis.call('SADD', termsKey, unpack(entries, j, math.min(j + 499, #entries)))
  end
  n = n + 1
end
return n
