--[[
  Queues instance records unless rejected: the SCP's one command per C-STORE (records of
  concurrent associations come together in one call).

  Input:
    KEYS[1] records stream       field r = record JSON
    KEYS[2] rejected hash        studyUid \t sopUid -> receivedAt \t reason \t kosSopInstanceUid

    ARGV[1] number of records, then 2 per record: rejected field (studyUid \t sopUid, '' when the
      record lacks its UIDs), record JSON

  Output:
    one entry per record: false when queued, the rejection value when rejected (not queued)
]]
local rcall = redis.call
local out = {}
for i = 0, tonumber(ARGV[1]) - 1 do
  local field, json = ARGV[2 + i * 2], ARGV[3 + i * 2]
  local rejection = false
  if field ~= '' then rejection = rcall('HGET', KEYS[2], field) end
  if rejection then
    out[i + 1] = rejection
  else
    rcall('XADD', KEYS[1], '*', 'r', json)
    out[i + 1] = false
  end
end
return out
