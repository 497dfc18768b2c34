-- Expiry of one swarm, atomically (records.lua, prepended, has the layout). KEYS: the four
-- peer sets (s4, l4, s6, l6), the swarm hash, the four record strings (as in announce.lua).
-- ARGV: 1 cutoff (peers last seen strictly before it go).
-- Returns {peers removed, 1 when the swarm was removed else 0}.
local m = redis.call('HGET', ids, 'm')
local existed = m ~= false
read_m(m)
local removed = 0
for i = 1, 4 do
  n[i] = redis.call('ZCARD', KEYS[i])
  while true do
    local old = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
    if #old == 0 then break end
    drop(i, old)
    removed = removed + #old
  end
end
local gone = 0
if n[1] + n[2] + n[3] + n[4] == 0 then
  if existed or removed > 0 then
    redis.call('DEL', ids, KEYS[6], KEYS[7], KEYS[8], KEYS[9])
    gone = 1
  end
elseif removed > 0 then
  redis.call('HSET', ids, 'm', m_value())
end
return {removed, gone}
