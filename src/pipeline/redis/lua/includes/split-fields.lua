-- Stored values join their fields with tabs (no UID, ISO timestamp or JSON holds a raw tab).
-- The text before and after the first tab of v.
local function split2(v)
  local t = string.find(v, '\t', 1, true)
  return string.sub(v, 1, t - 1), string.sub(v, t + 1)
end
