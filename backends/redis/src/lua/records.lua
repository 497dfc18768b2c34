-- Shared by announce.lua and prune.lua (prepended to each): the peer records of one swarm,
-- layout 3 (see `keys.rs`). KEYS (both scripts): 1 the swarm hash: address → peer id (20 bytes),
-- set letter ('s' or 'l'), record position (4 bytes, big-endian); field "m": the time of the last
-- lazy prune pass and the downloads (8 bytes each), then the count of each of the six sets (4
-- bytes each), big-endian, kept in step by every change (one field: one lookup in a listpack
-- hash). 2 the swarm's one expiry sorted set: address → last seen (Unix seconds), every peer of
-- every family. 3..8 the record strings of the six sets: IPv4 seeders, IPv4 leechers, IPv6
-- seeders, IPv6 leechers, WebRTC seeders, WebRTC leechers. Member k of a set is bytes
-- [k * r, (k + 1) * r) of its string, r = address length + 20 (the compact address then the
-- peer id), so that a window of peers is read with one GETRANGE. A string may be longer than its
-- set's count (the tail is left over from removals): only the first `count` records are live.
local ids, seen = KEYS[1], KEYS[2]
-- The numbers of field "m": last prune pass, downloads, the count of each set (KEYS[i + 2]);
-- `dirty`: whether "m" must be written back; `fields`: hash fields to write in the script's one
-- HSET (moved records' entries, the announcer's, "m"); `me`, `me_entry`: the announcer's address
-- and hash entry, kept in step when a prune moves or removes its record.
local pt, dl, n, dirty, fields = 0, 0, {0, 0, 0, 0, 0, 0}, false, {}
local me, me_entry

local M = '>I8I8I4I4I4I4I4I4'
-- The first 8 bytes of a WebRTC peer's synthetic address (100::/64, the core's WEBRTC_PREFIX).
local WEBRTC = '\1\0\0\0\0\0\0\0'

-- Reads "m" (nothing when the swarm has no hash).
local function read_m(m)
  if not m then return end
  pt, dl, n[1], n[2], n[3], n[4], n[5], n[6] = struct.unpack(M, m)
end

-- The value of "m".
local function m_value()
  return struct.pack(M, pt, dl, n[1], n[2], n[3], n[4], n[5], n[6])
end

-- The seeders' set of the family of compact address `a` (its leechers' is the next one): 1 IPv4,
-- 3 IPv6, 5 WebRTC.
local function family_set(a)
  if #a == 6 then return 1 end
  if string.sub(a, 1, 8) == WEBRTC then return 5 end
  return 3
end

-- All keys of a swarm share one expiry time: a lazy prune pass gives the hash, the sorted set
-- and every live record string the TTL from now (one TIME: Redis 7.0 does not freeze the clock
-- inside a script, so PEXPIREs would give the keys different times); a record string created in
-- between gets a PEXPIRE, which outlives the hash. So no key the hash needs dies before it.
local function expire_all(ttl)
  local t = redis.call('TIME')
  local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ttl) * 1000
  redis.call('PEXPIREAT', ids, at)
  redis.call('PEXPIREAT', seen, at)
  for i = 1, 6 do
    if n[i] > 0 then redis.call('PEXPIREAT', KEYS[i + 2], at) end
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

-- Removes the records at positions `gone` (distinct, live) of set `i`: the live records past the
-- new end move into the holes, in order; their entries go to `fields`. The caller removes the
-- addresses from the sorted set and the hash (or stores them again).
local function drop(i, gone)
  local recs = KEYS[i + 2]
  local card = n[i]
  local left = card - #gone
  n[i], dirty = left, true
  if left <= 0 then
    redis.call('DEL', recs)
    return
  end
  local holes, tail_gone = {}, {}
  for j = 1, #gone do
    local p = gone[j]
    if p < left then holes[#holes + 1] = p else tail_gone[p] = true end
  end
  if #holes == 0 then return end
  local r = 38
  if i <= 2 then r = 26 end
  local tail = redis.call('GETRANGE', recs, left * r, card * r - 1)
  local code, h = letter(i), 1
  for p = left, card - 1 do
    local q = holes[h]
    if q and not tail_gone[p] then
      local m = string.sub(tail, (p - left) * r + 1, (p - left + 1) * r)
      redis.call('SETRANGE', recs, q * r, m)
      local a, v = string.sub(m, 1, r - 20), entry_value(string.sub(m, r - 19), code, q)
      fields[#fields + 1] = a
      fields[#fields + 1] = v
      if a == me then me_entry = v end
      h = h + 1
    end
  end
end

-- Removes the peers `old` (addresses from the sorted set, oldest first) from the sorted set, the
-- hash and their records, set by set, each set's in the order of `old`. Returns how many were
-- stored peers (an address without a hash entry is only dropped from the sorted set).
local function prune_batch(old)
  local vals = redis.call('HMGET', ids, unpack(old))
  redis.call('ZREM', seen, unpack(old))
  redis.call('HDEL', ids, unpack(old))
  local by, removed = {{}, {}, {}, {}, {}, {}}, 0
  for j = 1, #old do
    local v = vals[j]
    if v then
      local code, p = entry(v)
      local i = family_set(old[j])
      if code ~= 115 then i = i + 1 end -- 's'
      by[i][#by[i] + 1] = p
      removed = removed + 1
      if old[j] == me then me_entry = nil end
    end
  end
  for i = 1, 6 do
    if #by[i] > 0 then drop(i, by[i]) end
  end
  return removed
end

-- Writes `fields` and, when changed, "m" in one HSET.
local function flush()
  if dirty then
    fields[#fields + 1] = 'm'
    fields[#fields + 1] = m_value()
  end
  if #fields > 0 then redis.call('HSET', ids, unpack(fields)) end
end
