-- Takes a resource's previous entries out of the index: its term set lists them, `s:<set key>` or
-- `z:<k>:<sorted set key>` (member `<k>:<id>`); the term set itself goes too.
local function unindex(termsKey, id)
  local old = redis.call('SMEMBERS', termsKey)
  for _, e in ipairs(old) do
    if string.sub(e, 1, 2) == 's:' then
      redis.call('SREM', string.sub(e, 3), id)
    else
      local k, key = string.match(e, '^z:(%d+):(.*)$')
      if key then redis.call('ZREM', key, k .. ':' .. id) end
    end
  end
  redis.call('DEL', termsKey)
end
