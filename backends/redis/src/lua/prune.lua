-- Expiry of one swarm, atomically (records.lua, prepended, has the layout). KEYS: as in
-- announce.lua. ARGV: 1 cutoff (peers last seen strictly before it go).
-- Returns {peers removed, 1 when the swarm was removed else 0}.
local m = redis.call('HGET', ids, 'm')
local existed = m ~= false
read_m(m)
local removed = 0
while true do
  local old = redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
  if #old == 0 then break end
  removed = removed + prune_batch(old)
end
local gone = 0
if n[1] + n[2] + n[3] + n[4] + n[5] + n[6] == 0 then
  if existed or removed > 0 then
    redis.call('DEL', ids, seen, KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
    gone = 1
  end
elseif existed then
  flush()
end
return {removed, gone}
