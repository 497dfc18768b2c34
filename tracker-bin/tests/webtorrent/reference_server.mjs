// The npm bittorrent-tracker server, WebSocket only, as the reference the WebSocket benchmark
// (benches/ws_compare.sh) measures octotracker against. Usage: node reference_server.mjs PORT
import { Server } from 'bittorrent-tracker'

const port = Number(process.argv[2])
const server = new Server({ http: false, udp: false, ws: true, stats: false })
server.on('error', (e) => console.error(`error: ${e.message}`))
server.on('warning', () => {})
server.listen(port, '127.0.0.1', () => console.log(`listening on ws://127.0.0.1:${port}`))
