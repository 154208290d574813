--[[
  Starts a study's publishing over (StudyStore.republish): pending, attempts 0, last error
  cleared, a new generation (a publish running now finishes pending).

  Input:
    KEYS[1] study hash

  Output:
    nil when the study is not in the store; else { state before, lastReceivedAt }
]]
local rcall = redis.call
local at = rcall('HGET', KEYS[1], 'lastReceivedAt')
if not at then return false end
local previous = rcall('HGET', KEYS[1], 'state') or 'pending'
rcall('HSET', KEYS[1], 'state', 'pending', 'attempts', '0')
rcall('HDEL', KEYS[1], 'lastError')
rcall('HINCRBY', KEYS[1], 'generation', 1)
return { previous, at }
