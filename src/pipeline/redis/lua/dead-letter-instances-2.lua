--[[
  Moves instance records that failed too many deliveries from the records stream to the dead-letter
  stream, whole, and acknowledges and deletes them there, in one step: a record is in one of the two
  streams, never in none (nothing acknowledged by C-STORE is lost). The group's delivery counter
  (XREADGROUP sets it to 1, each claim adds 1) decides; an entry not pending for this consumer any
  more (acknowledged, or claimed by another worker meanwhile) is left alone.

  Input:
    KEYS[1] records stream       field r = record JSON
    KEYS[2] dead-letter stream   fields entry-id, reason, error, deliveries, dead-lettered-at, then the entry's own

    ARGV[1] consumer group
    ARGV[2] this consumer
    ARGV[3] deliveries from which an entry is moved
    ARGV[4] now (ISO 8601)
    then 3 per failed entry: entry id, reason (log-safe), error (may quote the record)

  Output:
    one number per entry: -deliveries when moved, deliveries when kept (handed out again later),
    0 when not pending for this consumer
]]
local rcall = redis.call
local out = {}
local maxDeliveries = tonumber(ARGV[3])
for i = 0, (#ARGV - 4) / 3 - 1 do
  local id, reason, err = ARGV[5 + i * 3], ARGV[6 + i * 3], ARGV[7 + i * 3]
  local p = rcall('XPENDING', KEYS[1], ARGV[1], id, id, 1)[1]
  local result = 0
  if p and p[2] == ARGV[2] then
    local deliveries = tonumber(p[4])
    if deliveries < maxDeliveries then
      result = deliveries
    else
      local entry = rcall('XRANGE', KEYS[1], id, id)[1]
      if entry then
        local fields = { 'entry-id', id, 'reason', reason, 'error', err, 'deliveries', tostring(deliveries), 'dead-lettered-at', ARGV[4] }
        for _, v in ipairs(entry[2]) do fields[#fields + 1] = v end
        rcall('XADD', KEYS[2], '*', unpack(fields))
        result = -deliveries
      end
      -- (Deleted but still pending: acknowledged elsewhere meanwhile; only the pending entry is left to drop.)
      rcall('XACK', KEYS[1], ARGV[1], id)
      rcall('XDEL', KEYS[1], id)
    end
  end
  out[#out + 1] = result
end
return out
