--[[
  One page of the admin console's study search (RedisStudySearch.search): every criterion given
  must match; newest first (lastReceivedAt), ties by Study Instance UID descending.

  Without a UID, accession, patient ID or study date the page is a range of one sorted set (the
  state's, or all studies), counted with ZCOUNT: O(log N + offset + limit). Otherwise the
  candidates come from the most selective index given (the UID; the accession's or patient ID's
  members; the study date range) and are filtered by the other criteria, counted and sorted:
  O(candidates).

  Input:
    KEYS[1] terms hash          Study Instance UID -> JSON [accessionNumber, patientId, studyDate]
    KEYS[2] received set        score lastReceivedAt (epoch ms)
    KEYS[3] study date set      score YYYYMMDD
    KEYS[4] accession set       member accessionNumber \0 Study Instance UID
    KEYS[5] patient ID set      member patientId \0 Study Instance UID
    KEYS[6] pending, KEYS[7] published, KEYS[8] failed: the state index (score lastReceivedAt)

    ARGV[1] Study Instance UID, ARGV[2] accessionNumber, ARGV[3] patientId, ARGV[4] state
    ARGV[5] study date from, ARGV[6] study date to (YYYYMMDD, inclusive)
    ARGV[7] received from (epoch ms, inclusive), ARGV[8] received before (epoch ms, exclusive)
    ARGV[9] offset, ARGV[10] limit
    ('' for a criterion not given)

  Output:
    { total, { Study Instance UID, ... } }
]]
local rcall = redis.call
local uid, accession, patientId, state = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local dateFrom, dateTo, receivedFrom, receivedBefore = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local offset, limit = tonumber(ARGV[9]), tonumber(ARGV[10])

local stateKey = nil
if state == 'pending' then stateKey = KEYS[6] elseif state == 'published' then stateKey = KEYS[7] elseif state == 'failed' then stateKey = KEYS[8] end

if uid == '' and accession == '' and patientId == '' and dateFrom == '' and dateTo == '' then
  local base = stateKey or KEYS[2]
  local min = receivedFrom ~= '' and receivedFrom or '-inf'
  local max = receivedBefore ~= '' and ('(' .. receivedBefore) or '+inf'
  local total = rcall('ZCOUNT', base, min, max)
  if total <= offset then return { total, {} } end
  return { total, rcall('ZREVRANGEBYSCORE', base, max, min, 'LIMIT', offset, limit) }
end

-- The Study Instance UIDs of the members `value \0 uid` of a lexicographic set.
local function studiesOf(key, value)
  local out = {}
  for _, member in ipairs(rcall('ZRANGEBYLEX', key, '[' .. value .. '\0', '(' .. value .. '\1')) do
    out[#out + 1] = string.sub(member, #value + 2)
  end
  return out
end

local candidates
if uid ~= '' then
  candidates = (rcall('HEXISTS', KEYS[1], uid) == 1) and { uid } or {}
elseif accession ~= '' then
  candidates = studiesOf(KEYS[4], accession)
elseif patientId ~= '' then
  candidates = studiesOf(KEYS[5], patientId)
else
  candidates = rcall('ZRANGEBYSCORE', KEYS[3], dateFrom ~= '' and dateFrom or '-inf', dateTo ~= '' and dateTo or '+inf')
end

local dFrom, dTo = tonumber(dateFrom), tonumber(dateTo)
local rFrom, rBefore = tonumber(receivedFrom), tonumber(receivedBefore)
local byDate = dateFrom ~= '' or dateTo ~= ''
local kept = {}
for _, c in ipairs(candidates) do
  local terms = rcall('HGET', KEYS[1], c)
  if terms then
    local t = cjson.decode(terms)
    local ok = (accession == '' or t[1] == accession) and (patientId == '' or t[2] == patientId)
    if ok and byDate then
      local d = tonumber(t[3])
      ok = d ~= nil and (dFrom == nil or d >= dFrom) and (dTo == nil or d <= dTo)
    end
    local score
    if ok then
      score = tonumber(rcall('ZSCORE', KEYS[2], c))
      ok = score ~= nil and (rFrom == nil or score >= rFrom) and (rBefore == nil or score < rBefore)
    end
    if ok and stateKey then ok = rcall('ZSCORE', stateKey, c) ~= false end
    if ok then kept[#kept + 1] = { c, score } end
  end
end

table.sort(kept, function(a, b)
  if a[2] ~= b[2] then return a[2] > b[2] end
  return a[1] > b[1]
end)
local page = {}
for i = offset + 1, math.min(#kept, offset + limit) do page[#page + 1] = kept[i][1] end
return { #kept, page }
