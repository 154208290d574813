--[[
  Merges instance records (none a rejection note) into their one study.

  Input:
    KEYS[1] study hash          patient and study attribute lists, receipt, times, publish status, generation
    KEYS[2] series hash         series UID -> attribute list
    KEYS[3] instances hash      SOP Instance UID -> precedence \t seriesUid \t attribute list
    KEYS[4] series sizes hash   series UID -> number of instances
    KEYS[5] rejections hash     SOP Instance UID -> receivedAt \t reason \t kosSopInstanceUid
    KEYS[6] key objects hash    SOP Instance UID -> KeyObjectDocument (canonical JSON)

    ARGV[1] number of records, then 13 per record (StudyScripts.mergeInstances):
      sopUid, seriesUid, receivedAt, precedence, charset ('' when absent), patientList, studyList,
      receiptJson, callingAe, seriesList, instanceList, keyObjectJson ('' when none),
      isKos ('1' when the SOP Class is Key Object Selection)

  Output:
    { report (1: changed, or touched and still pending), state, lastReceivedAt }

  Attribute lists: includes/attribute-lists.lua. Records are merged in order, so a tie of precedence
  goes to the later one. Precedences (merge.ts precedenceOf) and ISO 8601 UTC timestamps compare as
  strings. Values stored before lists (JSON objects; `receivedAt` where the precedence now is) are
  C-STORE values of that time. The rules are merge.ts MERGE_RULES.
]]
--- @include "includes/split-fields"
--- @include "includes/attribute-lists"
--- @include "includes/restart-publish"
--- @include "includes/report-study"

local rcall = redis.call
local changed = false
local n = tonumber(ARGV[1])

-- The study level is read once and written once, after the records.
local cur = rcall('HMGET', KEYS[1], 'lastReceivedAt', 'firstReceivedAt', 'patient', 'study', 'charset', 'callingAe', 'receiptPrecedence')
local lastAt, firstAt = cur[1], cur[2]
local legacy = lastAt and ('1:' .. lastAt) or ''
local patient = decodeList(cur[3], legacy)
local study = decodeList(cur[4], legacy)
local charset, callingAe, receiptPrecedence = cur[5], cur[6], cur[7] or legacy
local receipt = false
local touched = false
-- Series UID -> attribute entries, read at most once, written after the records.
local seriesOf = {}

local function seriesEntries(uid)
  local s = seriesOf[uid]
  if s then return s end
  local v = rcall('HGET', KEYS[2], uid)
  if not v then
    s = {}
  else
    local tab = string.find(v, '\t', 1, true)
    -- Before lists: receivedAt \t seriesJson.
    if tab then s = decodeList(string.sub(v, tab + 1), '1:' .. string.sub(v, 1, tab - 1)) else s = decodeList(v, '') end
  end
  seriesOf[uid] = s
  return s
end

for i = 0, n - 1 do
  local b = 1 + i * 13
  local sop, seriesUid, at, p = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local rCharset, rPatient, rStudy, rReceipt, rCallingAe = ARGV[b + 5], ARGV[b + 6], ARGV[b + 7], ARGV[b + 8], ARGV[b + 9]
  local rSeries, rInstance, rKeyObject, rIsKos = ARGV[b + 10], ARGV[b + 11], ARGV[b + 12], ARGV[b + 13]
  -- [merge:rejected-instances-stay-out] Rejected before or after it came: skipped whole.
  if rcall('HEXISTS', KEYS[5], sop) == 0 then
  touched = true

  -- Study level. [merge:latest-received-wins] [merge:change-is-a-different-value] (per attribute)
  -- [merge:calling-ae-is-a-change] The calling AE selects the peer settings of the mapping.
  if not lastAt then
    lastAt, firstAt = at, at
    changed = true
  else
    if at > lastAt then lastAt = at end
    -- [merge:first-received-is-earliest]
    if (not firstAt) or at < firstAt then firstAt = at end
  end
  if mergeList(patient, rPatient, p) then changed = true end
  if mergeList(study, rStudy, p) then changed = true end
  -- The receipt (and its charset) is that of the record of highest precedence.
  if p >= receiptPrecedence then
    if charset ~= rCharset or callingAe ~= rCallingAe then changed = true end
    charset, callingAe, receipt, receiptPrecedence = rCharset, rCallingAe, rReceipt, p
  end

  -- Series level. [merge:latest-received-wins] (per attribute)
  if mergeList(seriesEntries(seriesUid), rSeries, p) then changed = true end

  -- Instance level. [merge:keyed-by-sop-instance-uid] (the field of the instances hash)
  local v = rcall('HGET', KEYS[3], sop)
  if not v then
    local entries = {}
    mergeList(entries, rInstance, p)
    rcall('HSET', KEYS[3], sop, p .. '\t' .. seriesUid .. '\t' .. encodeList(entries))
    if rKeyObject ~= '' then rcall('HSET', KEYS[6], sop, rKeyObject) end
    rcall('HINCRBY', KEYS[4], seriesUid, 1)
    changed = true
  else
    local vP, rest = split2(v)
    local vSeries, vList = split2(rest)
    if string.sub(vList, 1, 1) == '{' then vP = '1:' .. vP end
    local entries = decodeList(vList, vP)
    if mergeList(entries, rInstance, p) then changed = true end
    -- [merge:older-instance-changes-nothing] A record of lower precedence only fills in values the
    -- instance lacks: it does not move it, nor change its document.
    local wins = p >= vP
    local toSeries = vSeries
    if wins then
      toSeries = seriesUid
      -- [merge:key-object-document-kept] A KOS keeps its document; a record that is no KOS drops it.
      -- [merge:latest-present-value-wins] A KOS record without its document keeps the known one.
      local doc = rcall('HGET', KEYS[6], sop)
      if rKeyObject ~= '' then
        if doc ~= rKeyObject then
          changed = true
          rcall('HSET', KEYS[6], sop, rKeyObject)
        end
      elseif rIsKos ~= '1' and doc then
        changed = true
        rcall('HDEL', KEYS[6], sop)
      end
    end
    rcall('HSET', KEYS[3], sop, (wins and p or vP) .. '\t' .. toSeries .. '\t' .. encodeList(entries))
    if toSeries ~= vSeries then
      -- [merge:sop-moves-between-series] Re-sent in another series of the study: it moves; an emptied series goes.
      changed = true
      rcall('HINCRBY', KEYS[4], toSeries, 1)
      if rcall('HINCRBY', KEYS[4], vSeries, -1) <= 0 then
        rcall('HDEL', KEYS[4], vSeries)
        rcall('HDEL', KEYS[2], vSeries)
        seriesOf[vSeries] = nil
      end
    end
  end
  end -- not rejected
end

if touched then
  local fields = { 'lastReceivedAt', lastAt, 'firstReceivedAt', firstAt, 'patient', encodeList(patient),
    'study', encodeList(study), 'charset', charset, 'callingAe', callingAe, 'receiptPrecedence', receiptPrecedence }
  if receipt then
    fields[#fields + 1] = 'lastReceipt'
    fields[#fields + 1] = receipt
  end
  if not cur[1] then
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = 'pending'
    fields[#fields + 1] = 'attempts'
    fields[#fields + 1] = '0'
  end
  rcall('HSET', KEYS[1], unpack(fields))
  for uid, entries in pairs(seriesOf) do rcall('HSET', KEYS[2], uid, encodeList(entries)) end
end
if changed then restartPublish(KEYS[1]) end
return reportStudy(KEYS[1], changed)
