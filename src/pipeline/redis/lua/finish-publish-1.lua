--[[
  Finishes a publish attempt (StudyStore.finishPublish): records its outcome, and gives the study
  the outcome's state unless a change meanwhile gave it a new generation (then it stays pending:
  the change's own publish is scheduled).

  Input:
    KEYS[1] study hash
    ARGV[1] the generation the attempt began with
    ARGV[2] the outcome's state (published, pending or failed)
    ARGV[3] number of fields to set, then that many field/value pairs, then the fields to delete

  Output:
    nil when the study is not in the store (left alone); else { state, lastReceivedAt }
]]
--- @include "includes/status-fields"

if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if (redis.call('HGET', KEYS[1], 'generation') or '0') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', ARGV[2])
end
applyStatusFields(KEYS[1], 3)
return redis.call('HMGET', KEYS[1], 'state', 'lastReceivedAt')
