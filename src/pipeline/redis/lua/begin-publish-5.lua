--[[
  Begins a publish attempt of a study (StudyStore.beginPublish): loads what the publish needs,
  counts the attempt and marks the study pending, in one call.

  Input:
    KEYS[1] study hash
    KEYS[2] series hash
    KEYS[3] instances hash
    KEYS[4] key objects hash
    KEYS[5] study rejection string

  Output:
    nil when the study is not in the store; else
    { study hash (field, value, ...) after the marking, series hash, instances hash,
      key objects hash (each flat as HGETALL gives it), study rejection or nil,
      the state before (nil when unset) }
]]
local rcall = redis.call
if not rcall('HGET', KEYS[1], 'lastReceivedAt') then return false end
local previous = rcall('HGET', KEYS[1], 'state')
rcall('HSET', KEYS[1], 'state', 'pending')
rcall('HINCRBY', KEYS[1], 'attempts', 1)
return {
  rcall('HGETALL', KEYS[1]),
  rcall('HGETALL', KEYS[2]),
  rcall('HGETALL', KEYS[3]),
  rcall('HGETALL', KEYS[4]),
  rcall('GET', KEYS[5]),
  previous,
}
