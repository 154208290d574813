-- [merge:change-restarts-publish] The study changed: pending, attempts 0, no last error or note, and a
-- new generation, so that a publish running now finishes pending (finish-publish-1.lua).
local function restartPublish(studyKey)
  redis.call('HSET', studyKey, 'state', 'pending', 'attempts', '0')
  redis.call('HDEL', studyKey, 'lastError', 'note')
  redis.call('HINCRBY', studyKey, 'generation', 1)
end
