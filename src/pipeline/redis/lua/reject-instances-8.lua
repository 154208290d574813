--[[
  Applies one IHE IOCM rejection note to one study it references (a note that references several
  studies is one call per study), atomically with the removal of the rejected instances.

  Input:
    KEYS[1] study hash
    KEYS[2] series hash
    KEYS[3] instances hash
    KEYS[4] series sizes hash
    KEYS[5] rejections hash         SOP Instance UID -> receivedAt \t reason \t kosSopInstanceUid
    KEYS[6] study rejection string  receivedAt \t reason \t kosSopInstanceUid of the latest note
    KEYS[7] rejection notes hash    kosSopInstanceUid -> receivedAt \t recordJson
    KEYS[8] key objects hash

    ARGV[1] KOS SOP Instance UID
    ARGV[2] reason (113001, 113037, 113038 or 113039)
    ARGV[3] receivedAt of the note
    ARGV[4] the note's record JSON
    ARGV[5..] the rejected SOP Instance UIDs of this study

  Output:
    { report (1: changed, or touched and still pending), state, lastReceivedAt };
    { 0, nil, nil } when the study is not in the store.
]]
--- @include "includes/split-fields"
--- @include "includes/restart-publish"
--- @include "includes/report-study"

local rcall = redis.call
local kos, reason, at, record = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local value = at .. '\t' .. reason .. '\t' .. kos
local changed = false

-- [merge:latest-rejection-wins] for the note, each rejected instance and the study (below).
local note = rcall('HGET', KEYS[7], kos)
if (not note) or at >= split2(note) then rcall('HSET', KEYS[7], kos, at .. '\t' .. record) end

for i = 5, #ARGV do
  local sop = ARGV[i]
  local r = rcall('HGET', KEYS[5], sop)
  if (not r) or at >= split2(r) then rcall('HSET', KEYS[5], sop, value) end
  -- [merge:rejection-removes-instances] The instance goes, with its KOS document; an emptied series goes.
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
    if rest ~= reason .. '\t' .. kos then changed = true end
  else
    changed = true
  end
  rcall('SET', KEYS[6], value)
end

-- [merge:rejection-creates-no-study] The study hash is never created here.
if rcall('EXISTS', KEYS[1]) == 0 then return { 0, false, false } end
if changed then restartPublish(KEYS[1]) end
return reportStudy(KEYS[1], changed)
