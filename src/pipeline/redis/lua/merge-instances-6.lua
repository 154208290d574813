--[[
  Merges instance records (none a rejection note) into their one study.

  Input:
    KEYS[1] study hash          attributes (canonical JSON), receipt, times, publish status, generation
    KEYS[2] series hash         series UID -> receivedAt \t seriesJson
    KEYS[3] instances hash      SOP Instance UID -> receivedAt \t seriesUid \t instanceJson
    KEYS[4] series sizes hash   series UID -> number of instances
    KEYS[5] rejections hash     SOP Instance UID -> receivedAt \t reason \t kosSopInstanceUid
    KEYS[6] key objects hash    SOP Instance UID -> KeyObjectDocument (canonical JSON)

    ARGV[1] number of records, then 11 per record (StudyScripts.mergeInstances):
      sopUid, seriesUid, receivedAt, charset ('' when absent), patientJson, studyJson,
      receiptJson, callingAe, seriesJson, instanceJson, keyObjectJson ('' when not a KOS)

  Output:
    { report (1: changed, or touched and still pending), state, lastReceivedAt }

  Records are merged in order, so a tie of receivedAt goes to the later one. Attribute JSON is
  canonical and ISO 8601 UTC timestamps compare as strings. The rules are merge.ts MERGE_RULES.
]]
--- @include "includes/split-fields"
--- @include "includes/restart-publish"
--- @include "includes/report-study"

local rcall = redis.call
local changed = false
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local b = 1 + i * 11
  local sop, seriesUid, at = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local charset, patient, study, receipt, callingAe = ARGV[b + 4], ARGV[b + 5], ARGV[b + 6], ARGV[b + 7], ARGV[b + 8]
  local seriesJson, instanceJson, keyObjectJson = ARGV[b + 9], ARGV[b + 10], ARGV[b + 11]
  -- [merge:rejected-instances-stay-out] Rejected before or after it came: skipped whole.
  if rcall('HEXISTS', KEYS[5], sop) == 0 then

  -- Study level. [merge:latest-received-wins] [merge:change-is-a-different-value]
  -- [merge:calling-ae-is-a-change] The calling AE selects the peer settings of the mapping.
  local cur = rcall('HMGET', KEYS[1], 'lastReceivedAt', 'firstReceivedAt', 'patient', 'study', 'charset', 'callingAe')
  if not cur[1] then
    rcall('HSET', KEYS[1], 'lastReceivedAt', at, 'firstReceivedAt', at, 'patient', patient, 'study', study,
      'charset', charset, 'callingAe', callingAe, 'lastReceipt', receipt, 'state', 'pending', 'attempts', '0')
    changed = true
  else
    if at >= cur[1] then
      if cur[3] ~= patient or cur[4] ~= study or cur[5] ~= charset or cur[6] ~= callingAe then
        changed = true
      end
      rcall('HSET', KEYS[1], 'lastReceivedAt', at, 'patient', patient, 'study', study, 'charset', charset,
        'callingAe', callingAe, 'lastReceipt', receipt)
    end
    -- [merge:first-received-is-earliest]
    if (not cur[2]) or at < cur[2] then
      rcall('HSET', KEYS[1], 'firstReceivedAt', at)
    end
  end

  -- Series level. [merge:latest-received-wins]
  local s = rcall('HGET', KEYS[2], seriesUid)
  local sAt, sJson
  if s then sAt, sJson = split2(s) end
  if (not s) or at >= sAt then
    if (not s) or sJson ~= seriesJson then changed = true end
    rcall('HSET', KEYS[2], seriesUid, at .. '\t' .. seriesJson)
  end

  -- Instance level. [merge:keyed-by-sop-instance-uid] (the field of the instances hash)
  -- [merge:older-instance-changes-nothing]
  local v = rcall('HGET', KEYS[3], sop)
  local vAt, vSeries, vJson, rest
  if v then
    vAt, rest = split2(v)
    vSeries, vJson = split2(rest)
  end
  if (not v) or at >= vAt then
    if (not v) or vJson ~= instanceJson or vSeries ~= seriesUid then changed = true end
    rcall('HSET', KEYS[3], sop, at .. '\t' .. seriesUid .. '\t' .. instanceJson)
    -- [merge:key-object-document-kept] A KOS keeps its document; a re-send that is no KOS drops it.
    local doc = rcall('HGET', KEYS[6], sop)
    if keyObjectJson ~= '' then
      if doc ~= keyObjectJson then
        changed = true
        rcall('HSET', KEYS[6], sop, keyObjectJson)
      end
    elseif doc then
      changed = true
      rcall('HDEL', KEYS[6], sop)
    end
    if not v then
      rcall('HINCRBY', KEYS[4], seriesUid, 1)
    elseif vSeries ~= seriesUid then
      -- [merge:sop-moves-between-series] Re-sent in another series of the study: it moves; an emptied series goes.
      rcall('HINCRBY', KEYS[4], seriesUid, 1)
      if rcall('HINCRBY', KEYS[4], vSeries, -1) <= 0 then
        rcall('HDEL', KEYS[4], vSeries)
        rcall('HDEL', KEYS[2], vSeries)
      end
    end
  end
  end -- not rejected
end
if changed then restartPublish(KEYS[1]) end
return reportStudy(KEYS[1], changed)
