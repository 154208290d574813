/**
 * Lua scripts of the Redis study store. Each touches the keys of one study
 * only (one hash tag, one Cluster slot), except INDEX_LUA, which touches the
 * three state sets (they share their own hash tag).
 *
 * Stored values: series hash `receivedAt \t seriesJson`; instances hash
 * `receivedAt \t seriesUid \t instanceJson`. JSON never holds a raw tab and
 * neither do UIDs nor ISO timestamps, so the first tabs split the fields.
 * Attribute JSON is canonical (sorted keys, see ../merge.ts), so a change is
 * detected by comparing strings. ISO 8601 UTC timestamps compare as strings.
 */

/** Arguments per record in MERGE_LUA, after ARGV[1] (the record count). */
export const MERGE_ARGS_PER_RECORD = 11;

/**
 * KEYS: 1 study hash, 2 series hash, 3 instances hash, 4 series sizes hash,
 * 5 rejections hash, 6 key objects hash.
 * ARGV: 1 number of records, then per record: sopUid, seriesUid, receivedAt,
 * charset ('' when absent), patientJson, studyJson, receiptJson, callingAe,
 * seriesJson, instanceJson, keyObjectJson ('' when not a KOS). Records are
 * merged in order (a tie of receivedAt goes to the later one). A record whose
 * SOP Instance UID is in the rejections hash is skipped whole.
 * Returns { report (0/1: changed, or touched and still pending), state, lastReceivedAt }.
 */
export const MERGE_LUA = `
local rcall = redis.call
local function split2(v)
  local t = string.find(v, '\\t', 1, true)
  return string.sub(v, 1, t - 1), string.sub(v, t + 1)
end
local changed = false
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local b = 1 + i * ${MERGE_ARGS_PER_RECORD}
  local sop, seriesUid, at = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local charset, patient, study, receipt, callingAe = ARGV[b + 4], ARGV[b + 5], ARGV[b + 6], ARGV[b + 7], ARGV[b + 8]
  local seriesJson, instanceJson, keyObjectJson = ARGV[b + 9], ARGV[b + 10], ARGV[b + 11]
  -- A rejected instance (IHE IOCM), rejected before or after it came, is skipped whole.
  if rcall('HEXISTS', KEYS[5], sop) == 0 then

  -- Study level: latest received wins; the calling AE selects peer settings, so it counts as a change.
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
    if (not cur[2]) or at < cur[2] then
      rcall('HSET', KEYS[1], 'firstReceivedAt', at)
    end
  end

  -- Series level: latest received wins.
  local s = rcall('HGET', KEYS[2], seriesUid)
  local sAt, sJson
  if s then sAt, sJson = split2(s) end
  if (not s) or at >= sAt then
    if (not s) or sJson ~= seriesJson then changed = true end
    rcall('HSET', KEYS[2], seriesUid, at .. '\\t' .. seriesJson)
  end

  -- Instance level: keyed by SOP Instance UID; an older record than the stored one changes nothing.
  local v = rcall('HGET', KEYS[3], sop)
  local vAt, vSeries, vJson, rest
  if v then
    vAt, rest = split2(v)
    vSeries, vJson = split2(rest)
  end
  if (not v) or at >= vAt then
    if (not v) or vJson ~= instanceJson or vSeries ~= seriesUid then changed = true end
    rcall('HSET', KEYS[3], sop, at .. '\\t' .. seriesUid .. '\\t' .. instanceJson)
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
      -- Re-sent in another series of the study: it moves; an emptied series goes.
      rcall('HINCRBY', KEYS[4], seriesUid, 1)
      if rcall('HINCRBY', KEYS[4], vSeries, -1) <= 0 then
        rcall('HDEL', KEYS[4], vSeries)
        rcall('HDEL', KEYS[2], vSeries)
      end
    end
  end
  end -- not rejected
end
if changed then
  rcall('HSET', KEYS[1], 'state', 'pending', 'attempts', '0')
  rcall('HDEL', KEYS[1], 'lastError', 'note')
end
local out = rcall('HMGET', KEYS[1], 'state', 'lastReceivedAt')
-- A study whose last change is not published yet is reported too: after a crash between a
-- merge and schedulePublish, the re-merge of the batch schedules it again.
local report = changed or out[1] == 'pending'
return { report and 1 or 0, out[1], out[2] }
`;

/**
 * One rejection note applied to one study it references (a note referencing
 * several studies gives one call per study): atomic with the removal.
 * KEYS: 1 study hash, 2 series hash, 3 instances hash, 4 series sizes hash,
 * 5 rejections hash, 6 study rejection string, 7 rejection notes hash,
 * 8 key objects hash.
 * ARGV: 1 KOS SOP Instance UID, 2 reason, 3 receivedAt, 4 record JSON, then
 * the rejected SOP Instance UIDs of this study.
 * Each is remembered as rejected (latest received note wins) and, when
 * present, removed with its KOS document; an emptied series goes. The study
 * hash is never created here. Returns { report (0/1: changed, or touched and
 * still pending), state, lastReceivedAt } (state nil: no such study).
 */
export const REJECT_LUA = `
local rcall = redis.call
local function split2(v)
  local t = string.find(v, '\\t', 1, true)
  return string.sub(v, 1, t - 1), string.sub(v, t + 1)
end
local kos, reason, at, record = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local value = at .. '\\t' .. reason .. '\\t' .. kos
local changed = false

local note = rcall('HGET', KEYS[7], kos)
if (not note) or at >= split2(note) then rcall('HSET', KEYS[7], kos, at .. '\\t' .. record) end

for i = 5, #ARGV do
  local sop = ARGV[i]
  local r = rcall('HGET', KEYS[5], sop)
  if (not r) or at >= split2(r) then rcall('HSET', KEYS[5], sop, value) end
  local v = rcall('HGET', KEYS[3], sop)
  if v then
    local _, rest = split2(v)
    local vSeries = split2(rest)
    rcall('HDEL', KEYS[3], sop)
    rcall('HDEL', KEYS[8], sop)
    if rcall('HINCRBY', KEYS[4], vSeries, -1) <= 0 then
      rcall('HDEL', KEYS[4], vSeries)
      rcall('HDEL', KEYS[2], vSeries)
    end
    changed = true
  end
end

local latest = rcall('GET', KEYS[6])
if (not latest) or at >= split2(latest) then
  if latest then
    local _, rest = split2(latest)
    if rest ~= reason .. '\\t' .. kos then changed = true end
  else
    changed = true
  end
  rcall('SET', KEYS[6], value)
end

if rcall('EXISTS', KEYS[1]) == 0 then return { 0, false, false } end
if changed then
  rcall('HSET', KEYS[1], 'state', 'pending', 'attempts', '0')
  rcall('HDEL', KEYS[1], 'lastError', 'note')
end
local out = rcall('HMGET', KEYS[1], 'state', 'lastReceivedAt')
local report = changed or out[1] == 'pending'
return { report and 1 or 0, out[1], out[2] }
`;

/**
 * KEYS: 1 study hash. ARGV: 1 state, 2 number of fields to set, then field,
 * value pairs, then the fields to delete. A study not in the store is left
 * alone. Returns { state, lastReceivedAt } or nil when there is no study.
 */
export const SET_STATUS_LUA = `
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 0 then return false end
rcall('HSET', KEYS[1], 'state', ARGV[1])
local nSet = tonumber(ARGV[2])
for i = 0, nSet - 1 do
  rcall('HSET', KEYS[1], ARGV[3 + 2 * i], ARGV[4 + 2 * i])
end
for i = 3 + 2 * nSet, #ARGV do
  rcall('HDEL', KEYS[1], ARGV[i])
end
return rcall('HMGET', KEYS[1], 'state', 'lastReceivedAt')
`;

/**
 * KEYS: the state sets (pending, published, failed). ARGV: 1 Study Instance
 * UID, 2 index (1-based) of the set to put it in, 0 to remove it from all,
 * 3 score. Moves the study to one set atomically.
 */
export const INDEX_LUA = `
local target = tonumber(ARGV[2])
for i = 1, #KEYS do
  if i == target then
    redis.call('ZADD', KEYS[i], ARGV[3], ARGV[1])
  else
    redis.call('ZREM', KEYS[i], ARGV[1])
  end
end
return 1
`;
