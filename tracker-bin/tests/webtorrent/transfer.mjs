// One side of a real WebTorrent transfer through octotracker's WebSocket tracker, in its own
// Node process (WebRTC through node-datachannel):
//   node transfer.mjs seed TRACKER FILE     seeds FILE, prints "magnet MAGNET_URI", runs until killed
//   node transfer.mjs leech TRACKER MAGNET DIR   downloads into DIR, prints "done NAME", exits
// DHT, LSD, ut_pex, uTP, web seeds and STUN are off and ICE binds 127.0.0.1: the tracker (the
// only one in the magnet) is the only way the two sides can meet.
import assert from 'node:assert/strict'
import { dirname } from 'node:path'
import WebTorrent from 'webtorrent'
import * as wrtc from 'webrtc-polyfill'

const [role, tracker, what, out] = process.argv.slice(2)
assert.ok(['seed', 'leech'].includes(role) && tracker && what, 'usage: see the header of transfer.mjs')

const fail = (e) => { console.error(`${role}: ${e.stack || e}`); process.exit(1) }
const client = new WebTorrent({
  dht: false,
  lsd: false,
  utPex: false,
  utp: false,
  webSeeds: false,
  natUpnp: false,
  natPmp: false,
  tracker: { wrtc, rtcConfig: { iceServers: [], bindAddress: '127.0.0.1' } }
})
client.on('error', fail)

if (role === 'seed') {
  client.seed(what, { announce: [tracker], path: dirname(what) }, (torrent) => {
    torrent.on('wire', () => console.log('seed: a leecher connected'))
    console.log(`magnet ${torrent.magnetURI}`)
  })
} else {
  const magnet = what.replace(/&tr=[^&]*/g, '') + '&tr=' + encodeURIComponent(tracker)
  const torrent = client.add(magnet, { path: out, announce: [tracker] })
  torrent.on('error', fail)
  torrent.on('wire', (wire) => console.log(`leech: connected to a peer (${wire.type})`))
  torrent.on('done', () => {
    console.log(`done ${torrent.files.map((f) => f.path).join(',')}`)
    // destroy() sends `stopped`; the WebRTC teardown may linger, so do not wait for it.
    client.destroy()
    setTimeout(() => process.exit(0), 200)
  })
}
