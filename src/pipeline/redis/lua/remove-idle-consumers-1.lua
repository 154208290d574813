--[[
  Removes the consumers of the group that hold no pending entry and have been idle longer than
  ARGV[3]: every process start names a new consumer, and the names of stopped processes would
  pile up. Checked and removed in one step, so that a consumer never loses pending entries
  (XGROUP DELCONSUMER drops them; a consumer with some keeps them until a claim takes them).

  Input:
    KEYS[1] records stream

    ARGV[1] consumer group
    ARGV[2] this consumer (kept)
    ARGV[3] idle time (ms) above which a consumer without pending entries is removed

  Output:
    the names of the consumers removed
]]
local rcall = redis.call
local removed = {}
local minIdle = tonumber(ARGV[3])
for _, consumer in ipairs(rcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #consumer, 2 do f[consumer[i]] = consumer[i + 1] end
  if f['name'] ~= ARGV[2] and tonumber(f['pending']) == 0 and tonumber(f['idle']) > minIdle then
    rcall('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    removed[#removed + 1] = f['name']
  end
end
return removed
