-- One announce, atomically. See `keys.rs` for the layout.
-- KEYS: 1 seeders and 2 leechers of the announcer's address family, 3 seeders and 4 leechers
--       of the other family, 5 the swarm hash (address → peer id; "dl": downloads; "pt": time
--       of the last lazy prune)
-- ARGV: 1 address (compact IP + port), 2 peer id (20 bytes), 3 event (n, s, c or x for
--       stopped), 4 seeder (1 or 0), 5 now, 6 prune cutoff, 7 want, 8 key TTL in seconds,
--       9 seconds between lazy prune passes of one swarm, 10 and 11 random numbers (where the
--       chosen seeders and leechers start)
-- A set member is the address followed by the peer id: peers are handed out without a lookup.
local seeders, leechers, ids = KEYS[1], KEYS[2], KEYS[5]
local addr, event, is_seeder = ARGV[1], ARGV[3], ARGV[4] == '1'
local me = addr .. ARGV[2]
local now, want = tonumber(ARGV[5]), tonumber(ARGV[7])
local meta = redis.call('HMGET', ids, addr, 'dl', 'pt')
local dl = tonumber(meta[2] or '0')

-- 1. Lazy prune and TTL refresh, at most once per interval per swarm: peers last seen before
--    the cutoff go (a bounded batch per set; expire() removes any rest), and every key of the
--    swarm lives for the TTL (the peer timeout plus that interval) from now.
local pass = now - tonumber(meta[3] or '0') >= tonumber(ARGV[9])
if pass then
  for i = 1, 4 do
    local old = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[6], 'LIMIT', 0, 256)
    if #old > 0 then
      redis.call('ZREM', KEYS[i], unpack(old))
      for j = 1, #old do old[j] = string.sub(old[j], 1, -21) end
      redis.call('HDEL', ids, unpack(old))
      if meta[1] and redis.call('HEXISTS', ids, addr) == 0 then meta[1] = false end
    end
  end
  redis.call('HSET', ids, 'pt', now)
end

-- 2. Upsert or remove the announcer (identity: its address and port).
local old = meta[1] and (addr .. meta[1])
local stored = event ~= 'x'
if not stored then
  if old then
    redis.call('ZREM', seeders, old)
    redis.call('ZREM', leechers, old)
    redis.call('HDEL', ids, addr)
  end
else
  local into, out = leechers, seeders
  if is_seeder then into, out = seeders, leechers end
  if old then
    if event == 'c' and redis.call('ZSCORE', leechers, old) then
      dl = redis.call('HINCRBY', ids, 'dl', 1)
    end
    redis.call('ZREM', out, old)
    if old ~= me then redis.call('ZREM', into, old) end
  end
  redis.call('ZADD', into, now, me)
  -- A set this announce created gets its TTL now, not at the next pass.
  if not pass and redis.call('ZCARD', into) == 1 then redis.call('EXPIRE', into, ARGV[8]) end
  if meta[1] ~= ARGV[2] then redis.call('HSET', ids, addr, ARGV[2]) end
end

-- 3. Counts after the announce; an empty swarm is dropped with its download count.
local ns, nl = redis.call('ZCARD', seeders), redis.call('ZCARD', leechers)
local os, ol = redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[4])
if ns + nl + os + ol == 0 then
  redis.call('DEL', ids)
  return {0, 0, 0, ''}
end
if pass then
  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ARGV[8]) end
end

-- 4. Up to `want` other peers of the announcer's family, from random positions: a seeder gets
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

-- A window of `n` consecutive members (by last-seen order) from a random rank, wrapping
-- around: O(log N + n), like the memory backend's selection. One more is read when the
-- announcer is in the set, so that it can be skipped.
local out = {}
local function pick(key, card, n, self_inside, random)
  if n <= 0 then return end
  local ask = n
  if self_inside then ask = n + 1 end
  local got
  if ask >= card then
    got = redis.call('ZRANGE', key, 0, -1)
  else
    local first = random % card
    local last = first + ask - 1
    got = redis.call('ZRANGE', key, first, math.min(last, card - 1))
    if last >= card then
      for _, m in ipairs(redis.call('ZRANGE', key, 0, last - card)) do got[#got + 1] = m end
    end
  end
  if not self_inside then
    out[#out + 1] = table.concat(got)
    return
  end
  local taken = 0
  for _, m in ipairs(got) do
    if taken < n and m ~= me then
      out[#out + 1] = m
      taken = taken + 1
    end
  end
end
pick(seeders, ns, ks, self_s, tonumber(ARGV[10]))
pick(leechers, nl, kl, self_l, tonumber(ARGV[11]))

-- 5. Reply: counts, and the chosen members (address + peer id records) as one blob.
return {ns + os, nl + ol, dl, table.concat(out)}
