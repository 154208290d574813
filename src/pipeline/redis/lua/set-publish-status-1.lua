--[[
  Sets a study's publish status as given (StudyStore.setPublishStatus): no generation check.

  Input:
    KEYS[1] study hash
    ARGV[1] state
    ARGV[2] number of fields to set, then that many field/value pairs, then the fields to delete

  Output:
    nil when the study is not in the store (left alone); else { state, lastReceivedAt }
]]
--- @include "includes/status-fields"

if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
applyStatusFields(KEYS[1], 2)
return redis.call('HMGET', KEYS[1], 'state', 'lastReceivedAt')
