-- Shared by announce.lua and prune.lua (prepended to each): the peer records of one swarm.
-- KEYS (both scripts): 1..4 the four peer sets (sorted sets: compact address → last seen, Unix
-- seconds), the seeders of a family before its leechers; 5 the swarm hash (address → peer id,
-- set letter 's' or 'l' and record position as 4 bytes, big-endian; field "m": pt and dl as 8
-- bytes, then the ZCARD of s4, l4, s6 and l6 as 4 bytes each, big-endian: the time of the last
-- lazy prune, the downloads, and the counts, kept in step by every change: one field, so one
-- lookup in a listpack hash, read without making strings); 6..9 the record strings of sets 1..4: member k of a set is bytes [k * r, (k + 1) * r) of its
-- string, r = address length + 20 (the compact address then the peer id), so that a window of
-- peers is read with one GETRANGE. A string may be longer than its set's ZCARD records (the
-- tail is left over from removals): only the first ZCARD records are live.
local ids = KEYS[5]
-- The numbers of field "m": last prune pass, downloads, the count of each set 1..4 (KEYS order);
-- `slot[i]`: where set i's count is in "m" (announce.lua swaps the families for an IPv6
-- announcer); `dirty`: whether "m" must be written back.
local pt, dl, n, slot, dirty = 0, 0, {0, 0, 0, 0}, {1, 2, 3, 4}, false

local M = '>I8I8I4I4I4I4'

-- Reads "m" (nothing when the swarm has no hash).
local function read_m(m)
  if not m then return end
  local c = {}
  pt, dl, c[1], c[2], c[3], c[4] = struct.unpack(M, m)
  for i = 1, 4 do n[i] = c[slot[i]] end
end

-- The value of "m".
local function m_value()
  local c = {}
  for i = 1, 4 do c[slot[i]] = n[i] end
  return struct.pack(M, pt, dl, c[1], c[2], c[3], c[4])
end

-- All keys of a swarm share one expiry time: a lazy prune pass gives the hash and every
-- live set and record string the TTL from now; a set created in between gets the hash's.
-- So the swarm goes as a whole, never a set without its hash entries and counts.
local function expire_all(ttl)
  local t = redis.call('TIME')
  local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ttl) * 1000
  redis.call('PEXPIREAT', ids, at)
  for i = 1, 4 do
    if n[i] > 0 then
      redis.call('PEXPIREAT', KEYS[i], at)
      redis.call('PEXPIREAT', KEYS[i + 5], at)
    end
  end
end

-- A hash entry: set letter ('s' or 'l') as a byte, record position.
local function entry(v)
  return string.byte(v, 21), struct.unpack('>I4', v, 22)
end

-- The hash entry of peer id `id` at record `pos` of a set with letter `code`.
local function entry_value(id, code, pos)
  return id .. code .. struct.pack('>I4', pos)
end

-- The letter of set `i`: odd sets hold seeders.
local function letter(i)
  if i % 2 == 1 then return 's' end
  return 'l'
end

-- Removes the addresses `gone` (members of set `i`, whose count n[i] is right) with their hash
-- entries and records: the live records past the new end move into the holes, their entries
-- follow them.
local function drop(i, gone)
  local set, recs = KEYS[i], KEYS[i + 5]
  local card = n[i]
  local vals = redis.call('HMGET', ids, unpack(gone))
  local removed = redis.call('ZREM', set, unpack(gone))
  redis.call('HDEL', ids, unpack(gone))
  if removed == 0 then return end
  local left = card - removed
  n[i], dirty = left, true
  if left <= 0 then
    redis.call('DEL', recs)
    return
  end
  local holes, tail_gone = {}, {}
  for j = 1, #gone do
    local p = vals[j] and struct.unpack('>I4', vals[j], 22)
    if p then
      if p < left then holes[#holes + 1] = p else tail_gone[p] = true end
    end
  end
  if #holes == 0 then return end
  local r = #gone[1] + 20
  local tail = redis.call('GETRANGE', recs, left * r, card * r - 1)
  local code, moved, h = letter(i), {}, 1
  for p = left, card - 1 do
    local q = holes[h]
    if q and not tail_gone[p] then
      local m = string.sub(tail, (p - left) * r + 1, (p - left + 1) * r)
      redis.call('SETRANGE', recs, q * r, m)
      moved[#moved + 1] = string.sub(m, 1, r - 20)
      moved[#moved + 1] = entry_value(string.sub(m, r - 19), code, q)
      h = h + 1
    end
  end
  if #moved > 0 then redis.call('HSET', ids, unpack(moved)) end
end
