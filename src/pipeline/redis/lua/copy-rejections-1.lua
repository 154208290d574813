--[[
  Copies rejections of one study into the instances stream's rejected hash (the SCP's check),
  with the rule of the study's own rejections hash: [merge:latest-rejection-wins].

  Input:
    KEYS[1] rejected hash        studyUid \t sopUid -> receivedAt \t reason \t kosSopInstanceUid
    ARGV[1] Study Instance UID, then pairs: SOP Instance UID, value (receivedAt \t reason \t kos)

  Output: the number of fields written
]]
local rcall = redis.call
local written = 0
for i = 2, #ARGV - 1, 2 do
  local field, value = ARGV[1] .. '\t' .. ARGV[i], ARGV[i + 1]
  local cur = rcall('HGET', KEYS[1], field)
  local at = string.match(value, '^[^\t]*')
  if (not cur) or at >= string.match(cur, '^[^\t]*') then
    rcall('HSET', KEYS[1], field, value)
    written = written + 1
  end
end
return written
