--[[
  Searches one resource type (ResourceIndex.search).

  Input:
    KEYS[1] the type's all-ids sorted set
    ARGV[1] the plan, JSON (SearchPlan in redis-resource-index.ts): temporary key prefix, resource
            key prefix, sort set, AND-ed groups of OR-ed matches, order, count, offset

  Output:
    { total, json... } (json '' for an id whose resource is missing)

  Each AND-ed group becomes one set (a term set as is, or the SUNIONSTORE/SADD of its OR-ed
  matches into a temporary key); the groups are SINTERSTOREd. The page is taken in order from
  ZINTERSTORE (matches and the started sort set) and ZDIFFSTORE (undated matches), then its JSON
  read. Temporary keys expire after 60 s and are deleted before returning; they are not
  propagated (redis.set_repl(REPL_NONE)), so a search writes nothing to the AOF or the replicas.
]]
-- The temporary keys live and die inside this script: keep them out of the AOF and replicas.
redis.set_repl(redis.REPL_NONE)
local plan = cjson.decode(ARGV[1])
local allKey = KEYS[1]
local tmps = {}
local function tmpKey()
  local k = plan.tmp .. (#tmps + 1)
  tmps[#tmps + 1] = k
  return k
end
local function stored(k)
  redis.call('PEXPIRE', k, 60000)
  return k
end
local function sadd(dst, list)
  for j = 1, #list, 500 do
    redis.call('SADD', dst, unpack(list, j, math.min(j + 499, #list)))
  end
end
local function escape(v)
  return (string.gsub(v, '[\\|]', '\\%0'))
end
local function idOf(member)
  return string.sub(member, string.find(member, ':', 1, true) + 1)
end

-- Ids whose range [low, high) matches the search range [pl, ph) by the prefix (search.html, date).
local function dateIds(m, out)
  local lowKey, highKey, pl, ph = m.low, m.high, m.pl, m.ph
  local function add(list)
    for _, x in ipairs(list) do out[#out + 1] = idOf(x) end
  end
  local function eq() -- low >= pl and low < ph and high <= ph
    local phn = tonumber(ph)
    for _, x in ipairs(redis.call('ZRANGEBYSCORE', lowKey, pl, '(' .. ph)) do
      local h = redis.call('ZSCORE', highKey, x)
      if h and tonumber(h) <= phn then out[#out + 1] = idOf(x) end
    end
  end
  local p = m.prefix
  if p == 'ne' then
    add(redis.call('ZRANGEBYSCORE', lowKey, '-inf', '(' .. pl))
    add(redis.call('ZRANGEBYSCORE', highKey, '(' .. ph, '+inf'))
  elseif p == 'gt' then
    add(redis.call('ZRANGEBYSCORE', highKey, '(' .. ph, '+inf'))
  elseif p == 'lt' then
    add(redis.call('ZRANGEBYSCORE', lowKey, '-inf', '(' .. pl))
  elseif p == 'ge' then
    add(redis.call('ZRANGEBYSCORE', highKey, '(' .. ph, '+inf'))
    eq()
  elseif p == 'le' then
    add(redis.call('ZRANGEBYSCORE', lowKey, '-inf', '(' .. pl))
    eq()
  elseif p == 'sa' then
    add(redis.call('ZRANGEBYSCORE', lowKey, ph, '+inf'))
  elseif p == 'eb' then
    add(redis.call('ZRANGEBYSCORE', highKey, '-inf', pl))
  else
    eq()
  end
end

-- The set of ids of one AND-ed group (OR of its matches).
local function groupKey(group)
  if #group == 1 and group[1].t == 'set' then return group[1].key end
  local dst = tmpKey()
  local ids = {}
  local keys = {}
  for _, m in ipairs(group) do
    if m.t == 'set' then
      keys[#keys + 1] = m.key
    elseif m.t == 'id' then
      if redis.call('ZSCORE', allKey, m.id) then ids[#ids + 1] = m.id end
    elseif m.t == 'date' then
      dateIds(m, ids)
    elseif m.t == 'chain' then
      for _, t in ipairs(redis.call('SMEMBERS', m.target)) do keys[#keys + 1] = m.ref .. escape(t) end
    end
  end
  sadd(dst, ids)
  for j = 1, #keys, 500 do
    redis.call('SUNIONSTORE', dst, dst, unpack(keys, j, math.min(j + 499, #keys)))
  end
  return stored(dst)
end

local groups = {}
for _, g in ipairs(plan.groups) do groups[#groups + 1] = groupKey(g) end

local count, offset = plan.count, plan.offset
local M, total
if #groups == 0 then
  M = allKey
  total = redis.call('ZCARD', allKey)
elseif #groups == 1 then
  M = groups[1]
  total = redis.call('SCARD', M)
elseif count <= 0 then
  total = redis.call('SINTERCARD', #groups, unpack(groups))
else
  M = tmpKey()
  total = redis.call('SINTERSTORE', M, unpack(groups))
  stored(M)
end

local ids = {}
if count > 0 and offset < total then
  local last = offset + count - 1
  local o = plan.order
  if o.by == 'id' then
    local z = M
    if M ~= allKey then
      z = tmpKey()
      redis.call('ZUNIONSTORE', z, 1, M, 'WEIGHTS', 0)
      stored(z)
    end
    ids = redis.call(o.desc and 'ZREVRANGE' or 'ZRANGE', z, offset, last)
  else
    -- Dated matches by started (o.desc), ties by id (o.idDesc); then the undated ones by id (o.idDesc).
    -- ZRANGE orders equal scores by id ascending, ZREVRANGE descending: the weight's sign makes
    -- the started order come out right either way.
    local range = o.idDesc and 'ZREVRANGE' or 'ZRANGE'
    local w = (o.desc == o.idDesc) and 1 or -1
    local dated = plan.sort
    if not (M == allKey and w == 1) then
      dated = tmpKey()
      redis.call('ZINTERSTORE', dated, 2, plan.sort, M, 'WEIGHTS', w, 0)
      stored(dated)
    end
    local nd = redis.call('ZCARD', dated)
    if offset < nd then ids = redis.call(range, dated, offset, math.min(last, nd - 1)) end
    if last >= nd then
      local undated = tmpKey()
      -- Scores all equal (0 from the all-ids set, 1 from a set): id order.
      redis.call('ZDIFFSTORE', undated, 2, M, plan.sort)
      stored(undated)
      for _, id in ipairs(redis.call(range, undated, math.max(offset - nd, 0), last - nd)) do ids[#ids + 1] = id end
    end
  end
end

local out = { total }
for _, id in ipairs(ids) do
  out[#out + 1] = redis.call('GET', plan.res .. id) or ''
end
if #tmps > 0 then redis.call('DEL', unpack(tmps)) end
return out
