// The WebSocket tracker protocol as bittorrent-tracker's own client speaks it, against a running
// octotracker: announce, offer relay, answer relay, scrape, stopped on close, and the counts an
// HTTP scrape of the same swarm shows. Usage: node protocol.mjs WS_URL HTTP_URL [LEECHER_WS_URL]
// With LEECHER_WS_URL (another tracker process sharing the store), the leecher announces there:
// its offers and the seeder's answers cross the processes.
// Prints one line per check; exits non-zero on the first failure.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Client from 'bittorrent-tracker'
import WebSocket from 'ws'
import * as wrtc from 'webrtc-polyfill'

const [wsUrl, httpUrl, leecherWsUrl = wsUrl] = process.argv.slice(2)
assert.ok(wsUrl && httpUrl, 'usage: node protocol.mjs WS_URL HTTP_URL')

const infoHash = randomBytes(20)
const hex = infoHash.toString('hex')
const binary = (buf) => Buffer.from(buf).toString('latin1')

function deadline (ms, what) {
  let timer
  const p = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return { p, cancel: () => clearTimeout(timer) }
}

async function within (ms, what, promise) {
  const d = deadline(ms, what)
  try {
    return await Promise.race([promise, d.p])
  } finally {
    d.cancel()
  }
}

function client (peerId, left, url) {
  const c = new Client({
    infoHash,
    peerId,
    announce: [url],
    port: 6881,
    wrtc,
    // Loopback only: ICE gathers no candidate on any other interface, and no STUN server.
    rtcConfig: { iceServers: [], bindAddress: '127.0.0.1' },
    getAnnounceOpts: () => ({ left, uploaded: 0, downloaded: 0 })
  })
  c.on('error', (e) => { console.error(`client error: ${e.message}`); process.exit(1) })
  return c
}

// HTTP scrape of the swarm: the counts include WebSocket peers.
async function httpScrape () {
  const url = httpUrl.replace(/\/announce$/, '/scrape') + '?info_hash=' + escape(binary(infoHash))
  const body = Buffer.from(await (await fetch(url)).arrayBuffer()).toString('latin1')
  const n = (key) => Number((body.match(new RegExp(`${key}i(\\d+)e`)) || [])[1])
  return { complete: n('8:complete'), incomplete: n('10:incomplete'), body }
}

// HTTP announce into the same swarm: gets the counts, never a WebSocket peer.
async function httpAnnounce () {
  const q = `info_hash=${escape(binary(infoHash))}&peer_id=${escape(binary(randomBytes(20)))}` +
    '&port=6881&uploaded=0&downloaded=0&left=10&compact=1&numwant=50'
  const body = Buffer.from(await (await fetch(`${httpUrl}?${q}`)).arrayBuffer()).toString('latin1')
  return body
}

function check (name) {
  console.log(`ok - ${name}`)
}

const seederId = randomBytes(20)
const leecherId = randomBytes(20)
const seeder = client(seederId, 0, wsUrl)
const leecher = client(leecherId, 1000, leecherWsUrl)

// 1. announce: the reply carries the counts and the interval.
const seederUpdate = new Promise((resolve) => seeder.once('update', resolve))
seeder.start()
const first = await within(20000, 'the seeder\'s announce reply', seederUpdate)
assert.equal(first.complete, 1, 'the seeder is counted')
assert.equal(first.incomplete, 0)
check('announce: reply with complete 1, incomplete 0')

// 2. offer relay: the leecher's offers reach the seeder (its client makes a peer from an offer,
// with the offerer's id); 3. answer relay: the seeder's answer reaches the leecher.
const offerSeen = new Promise((resolve) => seeder.on('peer', (peer) => resolve(peer.id)))
const answerSeen = new Promise((resolve) => leecher.on('peer', (peer) => resolve(peer.id)))
const leecherUpdate = new Promise((resolve) => leecher.once('update', resolve))
leecher.start()
const second = await within(20000, 'the leecher\'s announce reply', leecherUpdate)
assert.equal(second.complete, 1)
assert.equal(second.incomplete, 1, 'the leecher is counted')
check('announce: the second peer sees complete 1, incomplete 1')
assert.equal(await within(20000, 'an offer relayed to the seeder', offerSeen), leecherId.toString('hex'))
check('offer relay: the seeder got an offer from the leecher\'s peer id')
assert.equal(await within(20000, 'an answer relayed to the leecher', answerSeen), seederId.toString('hex'))
check('answer relay: the leecher got the seeder\'s answer')

// 4. scrape over WebSocket.
const scraped = new Promise((resolve) => leecher.once('scrape', resolve))
leecher.scrape()
const s = await within(20000, 'a scrape reply', scraped)
assert.equal(s.complete, 1)
assert.equal(s.incomplete, 1)
assert.equal(s.infoHash, hex)
check('scrape: complete 1, incomplete 1 for the hash asked')

// 5. the same swarm over HTTP: counts include the WebSocket peers, peers never do.
const h = await httpScrape()
assert.equal(h.complete, 1, h.body)
assert.equal(h.incomplete, 1, h.body)
check('HTTP scrape counts the WebSocket peers')
const announced = await httpAnnounce()
assert.match(announced, /8:completei1e/, announced)
assert.match(announced, /10:incompletei2e/, announced)
assert.match(announced, /5:peers0:/, 'an HTTP peer is given no WebSocket peer: ' + announced)
check('HTTP announce: counts include WebSocket peers, its peer list has none')

// 6. stopped on close: a raw socket announces, then closes without `stopped`.
const raw = new WebSocket(wsUrl)
await within(10000, 'a raw WebSocket connection', new Promise((resolve, reject) => {
  raw.once('open', resolve)
  raw.once('error', reject)
}))
const rawReply = new Promise((resolve) => raw.once('message', (m) => resolve(JSON.parse(m.toString()))))
raw.send(JSON.stringify({
  action: 'announce', info_hash: binary(infoHash), peer_id: binary(randomBytes(20)),
  numwant: 0, uploaded: 0, downloaded: 0, left: 5, event: 'started', offers: []
}))
const r = await within(10000, 'the raw announce reply', rawReply)
assert.equal(r.action, 'announce')
assert.equal(r.info_hash, binary(infoHash), 'the reply names the swarm')
assert.equal(r.incomplete, 3, JSON.stringify(r))
const closed = new Promise((resolve) => raw.once('close', resolve))
raw.terminate()
await closed
let after
for (let i = 0; i < 200; i++) {
  after = await httpScrape()
  if (after.incomplete === 2) break
  await new Promise((resolve) => setTimeout(resolve, 50))
}
assert.equal(after.incomplete, 2, 'the closed socket\'s peer left the swarm: ' + after.body)
check('stopped on close: the peer of a closed socket leaves the swarm')

// 7. a bad message gets a failure reason naming the field, with the swarm's hash.
const bad = new WebSocket(wsUrl)
await within(10000, 'a second raw connection', new Promise((resolve) => bad.once('open', resolve)))
const badReply = new Promise((resolve) => bad.once('message', (m) => resolve(JSON.parse(m.toString()))))
bad.send(JSON.stringify({ action: 'announce', info_hash: binary(infoHash), peer_id: 'short' }))
const b = await within(10000, 'a failure reply', badReply)
assert.match(b['failure reason'], /peer_id/)
assert.equal(b.info_hash, binary(infoHash))
bad.close()
check('bad peer_id: failure reason naming the field')

seeder.destroy()
leecher.destroy()
setTimeout(() => process.exit(0), 100)
