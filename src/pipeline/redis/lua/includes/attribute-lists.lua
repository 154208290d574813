-- Attribute lists: the values of one level (patient, study, series or instance) with the precedence
-- of each (merge.ts mergeAttributes, here in Lua). A stored list is its default precedence, then one
-- entry per attribute sorted by name: `default RS name US precedence US json RS ...`, an empty
-- precedence being the default (the usual case: one record gave every value). An incoming list is
-- `name US json RS ...`, every value of the record's precedence, absent ones left out. No name,
-- precedence or canonical JSON holds RS or US (JSON escapes control characters).
local RS, US = '\30', '\31'

local function splitOn(s, sep)
  local out, from = {}, 1
  while true do
    local i = string.find(s, sep, from, true)
    if not i then
      out[#out + 1] = string.sub(s, from)
      return out
    end
    out[#out + 1] = string.sub(s, from, i - 1)
    from = i + 1
  end
end

-- name -> { precedence, json }. A value stored as a JSON object (before lists) has precedence `legacy`.
local function decodeList(s, legacy)
  local entries = {}
  if (not s) or s == '' then return entries end
  if string.sub(s, 1, 1) == '{' then
    for name, value in pairs(cjson.decode(s)) do entries[name] = { legacy, cjson.encode(value) } end
    return entries
  end
  local parts = splitOn(s, RS)
  local default = parts[1]
  for i = 2, #parts do
    local f = splitOn(parts[i], US)
    entries[f[1]] = { f[2] ~= '' and f[2] or default, f[3] }
  end
  return entries
end

local function encodeList(entries)
  local names, default = {}, ''
  for name, e in pairs(entries) do
    names[#names + 1] = name
    if e[1] > default then default = e[1] end
  end
  table.sort(names)
  local out = { default }
  for _, name in ipairs(names) do
    local e = entries[name]
    out[#out + 1] = name .. US .. (e[1] == default and '' or e[1]) .. US .. e[2]
  end
  return table.concat(out, RS)
end

-- Merges an incoming list of precedence p into entries; true when a value changed.
-- [merge:latest-present-value-wins] A value absent from the record leaves the known one.
-- [merge:c-store-outranks-import] A value is replaced only from a precedence at least its own.
local function mergeList(entries, incoming, p)
  local changed = false
  if incoming == '' then return false end
  for _, part in ipairs(splitOn(incoming, RS)) do
    local sep = string.find(part, US, 1, true)
    local name, json = string.sub(part, 1, sep - 1), string.sub(part, sep + 1)
    local e = entries[name]
    if (not e) or p >= e[1] then
      if (not e) or e[2] ~= json then changed = true end
      entries[name] = { p, json }
    end
  end
  return changed
end
