-- One announce, atomically (records.lua, prepended, has the layout; see also `keys.rs`).
-- KEYS: 1 seeders and 2 leechers of the announcer's address family, 3 seeders and 4 leechers
--       of the other family, 5 the swarm hash, 6..9 the record strings of sets 1..4
-- ARGV: 1 address (compact IP + port), 2 peer id (20 bytes), 3 event (n, s, c or x for
--       stopped), 4 seeder (1 or 0), 5 now, 6 prune cutoff, 7 want, 8 key TTL in seconds,
--       9 seconds between lazy prune passes of one swarm, 10 and 11 random numbers (where the
--       chosen seeders and leechers start)
local addr, pid, event, is_seeder = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1'
local now, want, ttl = tonumber(ARGV[5]), tonumber(ARGV[7]), ARGV[8]
local rec = #addr + 20
local meta = redis.call('HMGET', ids, addr, 'dl', 'pt')
local dl = tonumber(meta[2] or '0')

-- 1. Lazy prune and TTL refresh, at most once per interval per swarm: peers last seen before
--    the cutoff go (a bounded batch per set; expire() removes any rest), and every key of the
--    swarm lives for the TTL (the peer timeout plus that interval) from now.
local pass = now - tonumber(meta[3] or '0') >= tonumber(ARGV[9])
if pass then
  local pruned = false
  for i = 1, 4 do
    local old = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[6], 'LIMIT', 0, 256)
    if #old > 0 then
      drop(i, old)
      pruned = true
    end
  end
  if pruned and meta[1] then meta[1] = redis.call('HGET', ids, addr) end
  redis.call('HSET', ids, 'pt', now)
end

-- 2. Upsert or remove the announcer (identity: its address and port) in the sorted sets.
local was, pos -- the announcer's set (1 or 2) and record position before this announce
if meta[1] then
  local _, code
  _, code, pos = entry(meta[1])
  if code == 's' then was = 1 else was = 2 end
end
local stored = event ~= 'x'
local into = 2
if is_seeder then into = 1 end
local fresh = false -- whether the announcer needs a new record in `into`
if not stored then
  if was then drop(was, {addr}) end
else
  if was then
    if event == 'c' and was == 2 then dl = redis.call('HINCRBY', ids, 'dl', 1) end
    if was ~= into then
      drop(was, {addr})
      pos = nil
    end
  end
  fresh = redis.call('ZADD', KEYS[into], now, addr) == 1
  if not fresh and not pos then
    -- In the set without an entry (cannot happen while the keys expire together): find its record.
    local card = redis.call('ZCARD', KEYS[into])
    local all = redis.call('GETRANGE', KEYS[into + 5], 0, card * rec - 1)
    for k = 0, card - 1 do
      if string.sub(all, k * rec + 1, k * rec + #addr) == addr then pos = k break end
    end
    if not pos then
      redis.call('ZREM', KEYS[into], addr)
      fresh = redis.call('ZADD', KEYS[into], now, addr) == 1
    end
  end
end

-- 3. Counts after the announce; an empty swarm is dropped with its download count.
local ns, nl = redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])
local os, ol = redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[4])
if ns + nl + os + ol == 0 then
  redis.call('DEL', ids, KEYS[6], KEYS[7], KEYS[8], KEYS[9])
  return {0, 0, 0, ''}
end

-- 4. The announcer's record and hash entry; TTLs.
if stored then
  if fresh then
    if into == 1 then pos = ns - 1 else pos = nl - 1 end
  end
  if fresh or meta[1] ~= pid .. letter(into) .. pos then
    redis.call('SETRANGE', KEYS[into + 5], pos * rec, addr .. pid)
    redis.call('HSET', ids, addr, pid .. letter(into) .. pos)
  end
  -- A set this announce created gets its TTL now (the hash too, so that it outlives the set).
  if fresh and pos == 0 and not pass then
    redis.call('EXPIRE', KEYS[into], ttl)
    redis.call('EXPIRE', KEYS[into + 5], ttl)
    redis.call('EXPIRE', ids, ttl)
  end
end
if pass then
  for i = 1, 9 do redis.call('EXPIRE', KEYS[i], ttl) end
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

-- A window of `n` consecutive records of set `i` from a random position, wrapping around:
-- one or two GETRANGEs, O(n) bytes. One more is read when the announcer (at record `me`) is in
-- the set, and the announcer is cut out (or the extra one, when the announcer is not in the window).
local out = {}
local function pick(i, card, n, me, random)
  if n <= 0 then return end
  local recs = KEYS[i + 5]
  local ask, first, w = n, 0, nil
  if me then ask = n + 1 end
  if ask >= card then
    ask = card
    w = redis.call('GETRANGE', recs, 0, card * rec - 1)
  else
    first = random % card
    local last = first + ask
    if last <= card then
      w = redis.call('GETRANGE', recs, first * rec, last * rec - 1)
    else
      w = redis.call('GETRANGE', recs, first * rec, card * rec - 1)
        .. redis.call('GETRANGE', recs, 0, (last - card) * rec - 1)
    end
  end
  if me then
    local at = (me - first) % card
    if at < ask then
      w = string.sub(w, 1, at * rec) .. string.sub(w, (at + 1) * rec + 1)
    else
      w = string.sub(w, 1, n * rec)
    end
  end
  out[#out + 1] = w
end
pick(1, ns, ks, self_s and pos, tonumber(ARGV[10]))
pick(2, nl, kl, self_l and pos, tonumber(ARGV[11]))

-- 6. Reply: counts, and the chosen records (address + peer id) as one blob.
return {ns + os, nl + ol, dl, table.concat(out)}
