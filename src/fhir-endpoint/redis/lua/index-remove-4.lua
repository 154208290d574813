--[[
  Removes one resource and its index entries (ResourceIndex.remove).

  Input:
    KEYS[1] resource JSON key
    KEYS[2] the resource's term set
    KEYS[3] the type's all-ids sorted set
    KEYS[4] the type's started sort set
    ARGV[1] id

  Output:
    1 when the resource was there, else 0
]]
--- @include "includes/unindex"

local id = ARGV[1]
unindex(KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
redis.call('ZREM', KEYS[4], id)
return redis.call('DEL', KEYS[1])
