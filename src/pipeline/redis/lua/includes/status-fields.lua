-- Publish status fields from ARGV[from] on: the number of fields to set, that many field/value
-- pairs, then the fields to delete.
local function applyStatusFields(studyKey, from)
  local nSet = tonumber(ARGV[from])
  for i = 0, nSet - 1 do
    redis.call('HSET', studyKey, ARGV[from + 1 + 2 * i], ARGV[from + 2 + 2 * i])
  end
  for i = from + 1 + 2 * nSet, #ARGV do
    redis.call('HDEL', studyKey, ARGV[i])
  end
end
