--[[
  Moves a study to the state index set of its publish state, atomically (the three sets share the
  {index} hash tag).

  Input:
    KEYS[1] pending set, KEYS[2] published set, KEYS[3] failed set
    ARGV[1] Study Instance UID
    ARGV[2] 1-based index of the set to put it in; 0 takes it out of all
    ARGV[3] score (lastReceivedAt, epoch ms)

  Output:
    1
]]
local target = tonumber(ARGV[2])
for i = 1, #KEYS do
  if i == target then
    redis.call('ZADD', KEYS[i], ARGV[3], ARGV[1])
  else
    redis.call('ZREM', KEYS[i], ARGV[1])
  end
end
return 1
