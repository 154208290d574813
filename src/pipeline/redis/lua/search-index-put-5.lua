--[[
  Puts one study in the admin console's search index, or takes it out (RedisStudySearch.sync).
  The index is written after the study's own script (another slot, like the state index): the
  caller re-reads the study and repeats until both agree.

  Input:
    KEYS[1] terms hash          Study Instance UID -> JSON [accessionNumber, patientId, studyDate]
    KEYS[2] received set        Study Instance UID, score lastReceivedAt (epoch ms)
    KEYS[3] study date set      Study Instance UID, score YYYYMMDD (valid dates only)
    KEYS[4] accession set       score 0, member accessionNumber \0 Study Instance UID
    KEYS[5] patient ID set      score 0, member patientId \0 Study Instance UID

    ARGV[1] Study Instance UID
    ARGV[2] 1: the study is in the store; 0: it is not (taken out of the index)
    ARGV[3] lastReceivedAt (epoch ms)
    ARGV[4] accessionNumber ('' for none)
    ARGV[5] patientId ('' for none)
    ARGV[6] studyDate, YYYYMMDD ('' for none or not a valid date)

  Output:
    1 when indexed, 0 when taken out
]]
local rcall = redis.call
local uid = ARGV[1]

local old = rcall('HGET', KEYS[1], uid)
if old then
  local t = cjson.decode(old)
  if t[1] ~= '' then rcall('ZREM', KEYS[4], t[1] .. '\0' .. uid) end
  if t[2] ~= '' then rcall('ZREM', KEYS[5], t[2] .. '\0' .. uid) end
end

if ARGV[2] == '0' then
  rcall('HDEL', KEYS[1], uid)
  rcall('ZREM', KEYS[2], uid)
  rcall('ZREM', KEYS[3], uid)
  return 0
end

local accession, patientId, studyDate = ARGV[4], ARGV[5], ARGV[6]
rcall('HSET', KEYS[1], uid, cjson.encode({ accession, patientId, studyDate }))
rcall('ZADD', KEYS[2], ARGV[3], uid)
if studyDate ~= '' then rcall('ZADD', KEYS[3], studyDate, uid) else rcall('ZREM', KEYS[3], uid) end
if accession ~= '' then rcall('ZADD', KEYS[4], 0, accession .. '\0' .. uid) end
if patientId ~= '' then rcall('ZADD', KEYS[5], 0, patientId .. '\0' .. uid) end
return 1
