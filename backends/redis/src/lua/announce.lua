-- One announce, atomically (records.lua, prepended, has the layout; see also `keys.rs`).
-- KEYS: 1 seeders and 2 leechers of the announcer's address family, 3 seeders and 4 leechers
--       of the other family, 5 the swarm hash, 6..9 the record strings of sets 1..4, 10 the
--       swarm hash of the sibling family group (WebRTC peers for IP announcers and the reverse:
--       `keys.rs`), whose counts and downloads join the reply
-- ARGV: 1 address (compact IP + port), 2 peer id (20 bytes), 3 the numbers, packed big-endian
--       (as one argument: each argument costs Lua a string): event (1 byte: 0 none, 1 started,
--       2 completed, 3 stopped), seeder (1 byte, 1 or 0), now and the prune cutoff (8 bytes
--       each), want, key TTL in seconds, seconds between lazy prune passes of one swarm, and
--       two random numbers (where the chosen seeders and leechers start) (4 bytes each)
local addr, pid = ARGV[1], ARGV[2]
local event, seeder, now, cutoff, want, ttl, every, r1, r2 = struct.unpack('>BBI8I8I4I4I4I4I4', ARGV[3])
local is_seeder = seeder == 1
local rec = #addr + 20
if #addr ~= 6 then slot = {3, 4, 1, 2} end
local meta = redis.call('HMGET', ids, addr, 'm')
read_m(meta[2])
local sib_s, sib_l, sib_dl = 0, 0, 0
local sib = redis.call('HGET', KEYS[10], 'm')
if sib then
  local _, d, s4, l4, s6, l6 = struct.unpack(M, sib)
  sib_s, sib_l, sib_dl = s4 + s6, l4 + l6, d
end

-- 1. Lazy prune and TTL refresh, at most once per interval per swarm: the counts are read
--    again from the sets, peers last seen before the cutoff go (a bounded batch per set;
--    expire() removes any rest), and every key of the swarm lives for the TTL (the peer
--    timeout plus that interval) from now. A swarm without its hash has no keys at all (they
--    expire together): nothing to prune or count.
local pass = not meta[2] or now - pt >= every
if pass then pt, dirty = now, true end
if not meta[2] then
  if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[4]) > 0 then
    -- Sets without their hash: only a key evicted on its own (maxmemory) does that. Start again.
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
  end
elseif pass then
  local pruned = false
  for i = 1, 4 do
    n[i] = redis.call('ZCARD', KEYS[i])
    if n[i] > 0 then
      local old = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', '(' .. cutoff, 'LIMIT', 0, 256)
      if #old > 0 then
        drop(i, old)
        pruned = true
      end
    end
  end
  if pruned and meta[1] then meta[1] = redis.call('HGET', ids, addr) end
end

-- 2. Upsert or remove the announcer (identity: its address and port) in the sorted sets.
local was, pos -- the announcer's set (1 or 2) and record position before this announce
if meta[1] then
  local code
  code, pos = entry(meta[1])
  if code == 115 then was = 1 else was = 2 end -- 's'
end
local stored = event ~= 3
local into = 2
if is_seeder then into = 1 end
local fresh = false -- whether the announcer takes a new record at the end of `into`
if not stored then
  if was then drop(was, {addr}) end
else
  if was then
    if event == 2 and was == 2 then dl, dirty = dl + 1, true end
    if was ~= into then
      drop(was, {addr})
      pos = nil
    end
  end
  fresh = redis.call('ZADD', KEYS[into], now, addr) == 1
  if fresh then
    pos = n[into]
    n[into], dirty = pos + 1, true
  elseif not pos then
    -- In the set without a hash entry: the keys expire together, so only a key evicted on its
    -- own (maxmemory) gets here. The swarm starts again from nothing; its peers re-announce.
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], ids, KEYS[6], KEYS[7], KEYS[8], KEYS[9])
    return redis.error_reply('octotracker: swarm keys out of step (' .. KEYS[into] .. '): swarm reset')
  end
end

-- 3. Counts after the announce; an empty swarm is dropped with its download count.
local ns, nl, os, ol = n[1], n[2], n[3], n[4]
if ns + nl + os + ol == 0 then
  redis.call('DEL', ids, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
  return {sib_s, sib_l, sib_dl}
end

-- 4. Writes: the announcer's record, then one HSET (its entry, changed counts, prune time),
--    then expiry times when this is a pass or the announce created a set.
local fields = {}
-- (Not fresh: same set, same position; only the peer id may have changed.)
if stored and (fresh or string.sub(meta[1], 1, 20) ~= pid) then
  redis.call('SETRANGE', KEYS[into + 5], pos * rec, addr .. pid)
  fields[1], fields[2] = addr, entry_value(pid, letter(into), pos)
end
if dirty then
  fields[#fields + 1] = 'm'
  fields[#fields + 1] = m_value()
end
if #fields > 0 then redis.call('HSET', ids, unpack(fields)) end
if pass then
  expire_all(ttl)
elseif fresh and pos == 0 then
  local at = redis.call('PEXPIRETIME', ids)
  if at > 0 then
    redis.call('PEXPIREAT', KEYS[into], at)
    redis.call('PEXPIREAT', KEYS[into + 5], at)
  else
    expire_all(ttl)
  end
end

-- 5. Up to `want` other peers of the announcer's family, from random positions: a seeder gets
--    leechers only, a leecher gets seeders and leechers in proportion.
local self_s = stored and is_seeder
local self_l = stored and not is_seeder
local cs, cl = ns, nl
if self_s then cs = cs - 1 end
if self_l then cl = cl - 1 end
if is_seeder then cs = 0 end
local k = math.min(want, cs + cl)
local ks, kl = cs, cl
if k < cs + cl then
  ks = math.floor(k * cs / (cs + cl))
  kl = k - ks
  if kl > cl then ks, kl = ks + kl - cl, cl end
end

-- A window of consecutive records of set `i` from a random position, wrapping around, without
-- the announcer (at record `me` when it is in the set): one GETRANGE per stretch of records,
-- each appended to the reply as it comes (no string is cut or joined in Lua).
local out = {ns + os + sib_s, nl + ol + sib_l, dl + sib_dl}
local function range(recs, card, from, count)
  if count <= 0 then return end
  from = from % card
  local to = from + count
  if to <= card then
    out[#out + 1] = redis.call('GETRANGE', recs, from * rec, to * rec - 1)
  else
    out[#out + 1] = redis.call('GETRANGE', recs, from * rec, card * rec - 1)
    out[#out + 1] = redis.call('GETRANGE', recs, 0, (to - card) * rec - 1)
  end
end
local function pick(i, card, m, me, random)
  if m <= 0 then return end
  local recs = KEYS[i + 5]
  if not me then
    if m >= card then m = card end
    range(recs, card, random, m)
  elseif m >= card - 1 then
    range(recs, card, 0, me)
    range(recs, card, me + 1, card - me - 1)
  else
    local first = random % card
    local at = (me - first) % card
    if at < m then
      range(recs, card, first, at)
      range(recs, card, me + 1, m - at)
    else
      range(recs, card, first, m)
    end
  end
end
pick(1, ns, ks, self_s and pos, r1)
pick(2, nl, kl, self_l and pos, r2)

-- 6. Reply: counts, then the chosen records (address + peer id), in one or more strings.
return out
