--[[
  An operator's script (README, Operations: dead letters), not called by the bridge: puts dead-lettered
  instance records back on the records stream, each as it was queued (its field r), and deletes
  them from the dead-letter stream, in one step. Run it once the cause is fixed, else a record fails
  again and comes back here after the same number of deliveries:

    redis-cli -u "$REDIS_URL" --eval src/pipeline/redis/lua/requeue-dead-letters-2.lua \
      'dfb:{instance-stream}:dead-letters' 'dfb:{instance-stream}:records' , all

  A record goes back without the rejection check of a C-STORE: the merge skips rejected instances anyway.

  Input:
    KEYS[1] dead-letter stream
    KEYS[2] records stream

    ARGV    the dead-letter entry ids to re-queue (ids of the dead-letter stream, not entry-id), or `all`

  Output:
    the number of records re-queued
]]
local rcall = redis.call
local entries = {}
if ARGV[1] == 'all' then
  entries = rcall('XRANGE', KEYS[1], '-', '+')
else
  for _, id in ipairs(ARGV) do
    local e = rcall('XRANGE', KEYS[1], id, id)[1]
    if e then entries[#entries + 1] = e end
  end
end
local n = 0
for _, e in ipairs(entries) do
  local fields = e[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'r' then
      rcall('XADD', KEYS[2], '*', 'r', fields[i + 1])
      rcall('XDEL', KEYS[1], e[1])
      n = n + 1
      break
    end
  end
end
return n
