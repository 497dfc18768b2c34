-- wrk script: realistic HTTP announces, an independent second opinion beside `octotracker load`.
--
--   wrk -t1 -c64 -d10s -s benches/wrk_announce.lua http://127.0.0.1:PORT -- HASHES [PEERS] [close]
--
-- HASHES: a file of hex info hashes, one a line (the swarms). PEERS: how many distinct peers
-- (default 1000000). "close": send `Connection: close`, one connection per request.
--
-- Each request is a regular announce (no event) as qBittorrent sends it: a swarm picked with
-- Zipf-like popularity (log-uniform rank: swarm k is picked with probability ~ 1/k), a peer picked
-- uniformly, binary info_hash and peer_id percent-encoded, numwant=50, compact=1, 3 in 10 peers
-- seeders. All peers connect from 127.0.0.1, so a peer is told apart by its port.
--
-- At the end it prints one line `WRKJSON {...}` with requests, seconds, requests_per_second,
-- errors and latency_ms {p50, p90, p99, p999}.

local hashes = {}
local peer_count = 1000000
local headers = {}
local log_n = 0

local function percent_encode_hex(hex)
  local out = {}
  for i = 1, #hex, 2 do
    local byte = tonumber(hex:sub(i, i + 1), 16)
    local c = string.char(byte)
    if c:match("[%w%-%._~]") then
      out[#out + 1] = c
    else
      out[#out + 1] = string.format("%%%02X", byte)
    end
  end
  return table.concat(out)
end

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk ... -s wrk_announce.lua URL -- HASHES [PEERS] [close]")
  end
  for line in io.lines(file) do
    local hex = line:match("^%s*(%x+)%s*$")
    if hex ~= nil and #hex == 40 then
      hashes[#hashes + 1] = "/announce?info_hash=" .. percent_encode_hex(hex)
    end
  end
  if #hashes == 0 then
    error("no info hashes in " .. file)
  end
  log_n = math.log(#hashes)
  if args[2] ~= nil then
    peer_count = tonumber(args[2])
  end
  if args[3] == "close" then
    headers["Connection"] = "close"
  end
  headers["User-Agent"] = "qBittorrent/4.6.5"
  headers["Accept-Encoding"] = "gzip"
  -- Each thread its own sequence, reproducible.
  math.randomseed(12345 + #hashes)
end

function request()
  -- Log-uniform rank in [1, N]: popularity ~ 1/rank.
  local swarm = math.floor(math.exp(math.random() * log_n))
  if swarm > #hashes then swarm = #hashes end
  local peer = math.random(0, peer_count - 1)
  local left = 0
  if peer % 10 >= 3 then left = 1 + (peer * 7919) % 4294967296 end
  local path = hashes[swarm]
    .. "&peer_id=-qB4650-" .. string.format("%012d", peer)
    .. "&port=" .. (1024 + peer % 64000)
    .. "&uploaded=" .. (peer * 31) % 1073741824
    .. "&downloaded=" .. (peer * 17) % 1073741824
    .. "&left=" .. left
    .. "&corrupt=0&key=" .. string.format("%08X", peer % 4294967296)
    .. "&numwant=50&compact=1&no_peer_id=1&supportcrypto=1&redundant=0"
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"seconds\":%.3f,\"requests_per_second\":%.1f,\"errors\":%d," ..
    "\"errors_by_kind\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d}," ..
    "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f}}\n",
    summary.requests, seconds, summary.requests / seconds, errors,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
