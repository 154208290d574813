-- The reply of a merge: { report (0/1), state, lastReceivedAt }.
-- [merge:pending-study-reported] A study whose last change is not published yet is reported too: after a
-- crash between a merge and schedulePublish, the merge of the batch again schedules it.
local function reportStudy(studyKey, changed)
  local out = redis.call('HMGET', studyKey, 'state', 'lastReceivedAt')
  local report = changed or out[1] == 'pending'
  return { report and 1 or 0, out[1], out[2] }
end
