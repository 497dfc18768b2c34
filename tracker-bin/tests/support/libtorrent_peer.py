#!/usr/bin/python3
"""python3-libtorrent side of the real_clients end-to-end test.

  libtorrent_peer.py make-torrent DATA_FILE ANNOUNCE_URL TORRENT_OUT
      Writes a v1 .torrent for DATA_FILE whose only tracker is ANNOUNCE_URL.

  libtorrent_peer.py info-hash TORRENT
      Prints the v1 info hash libtorrent computes for TORRENT (40 hex
      characters), or exits non-zero when libtorrent cannot load it.

  libtorrent_peer.py tracker-error TORRENT SAVE_DIR
      Adds TORRENT for download into SAVE_DIR and waits (at most 60 s) for
      its tracker to refuse the announce; prints "tracker-error: REASON"
      with the failure reason libtorrent got, or exits non-zero.

  libtorrent_peer.py seed TORRENT SAVE_DIR
      Seeds TORRENT (its file must already be complete in SAVE_DIR) on a
      port of 127.0.0.1 chosen by the OS, with every way of finding peers
      other than the tracker turned off. Prints "ready" on stdout once the
      torrent is seeding and the tracker has answered an announce (as
      "ready next_announce_in=N min_announce_in=M": the seconds until
      libtorrent will announce again and may announce again, as it took them
      from the tracker's interval and min interval), then keeps
      seeding until stdin is closed (the test holds it open), SIGTERM, or
      MAX_LIFETIME seconds. Diagnostics go to stderr.

Run with /usr/bin/python3 (Debian's python3-libtorrent), not a pyenv python.
"""
import os
import sys
import threading
import time

import libtorrent as lt

MAX_LIFETIME = 300  # seconds: never outlive a stuck test for long
PIECE_SIZE = 256 * 1024


def log(message):
    print(f"libtorrent_peer: {message}", file=sys.stderr, flush=True)


def make_torrent(data_file, announce_url, torrent_out):
    files = lt.file_storage()
    lt.add_files(files, data_file)
    # v1 only: libtorrent 2 makes hybrid v1+v2 torrents by default, and
    # aria2 speaks v1 only; a hybrid would also announce a second info hash.
    torrent = lt.create_torrent(files, PIECE_SIZE, flags=lt.create_torrent.v1_only)
    torrent.add_tracker(announce_url)
    torrent.set_creator("octotracker real_clients test")
    # set_piece_hashes reads the file relative to its parent directory.
    lt.set_piece_hashes(torrent, os.path.dirname(os.path.abspath(data_file)))
    with open(torrent_out, "wb") as out:
        out.write(lt.bencode(torrent.generate()))


def info_hash(torrent_file):
    hashes = lt.torrent_info(torrent_file).info_hashes()
    if not hashes.has_v1():
        sys.exit(f"{torrent_file} has no v1 info hash")
    print(hashes.v1)


def tracker_error(torrent_file, save_dir):
    session = make_session()
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent_file)
    params.save_path = save_dir
    session.add_torrent(params)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            log(f"{type(alert).__name__}: {alert.message()}")
            if isinstance(alert, lt.tracker_error_alert):
                print(f"tracker-error: {alert.failure_reason()}", flush=True)
                return
    sys.exit("no tracker error within 60 s")


def session_settings():
    return {
        "listen_interfaces": "127.0.0.1:0",
        # Only the tracker may introduce peers: no DHT, no local service
        # discovery, no port mapping. (PEX is off too: see make_session.)
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # Both clients are 127.0.0.1: by default libtorrent keeps a single
        # connection per IP address.
        "allow_multiple_connections_per_ip": True,
        # TCP only, as aria2 speaks no uTP: saves a failed uTP attempt.
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        # libtorrent 2 restricts what it sends to trackers on loopback (SSRF
        # mitigation); our tracker is on 127.0.0.1 on purpose.
        "ssrf_mitigation": False,
        # https:// trackers: the certificate is checked (libtorrent 2's default, stated so a
        # test over https proves it); the CA comes from OpenSSL's default paths, which the
        # SSL_CERT_FILE variable points at a test's throwaway CA.
        "validate_https_trackers": True,
        # Re-announce quickly if the first announce fails for any reason.
        "tracker_backoff": 10,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.connect_notification
        | lt.alert.category_t.peer_notification,
    }


def make_session():
    # flags=0: no default plugins, which leaves out ut_pex (peer exchange).
    return lt.session(session_settings(), flags=0)


def announce_schedule(handle):
    """When libtorrent will announce again, in seconds from now (Unix times in its entry)."""
    now = time.time()
    entry = handle.trackers()[0]
    return (
        f"next_announce_in={round(entry['next_announce'] - now)} "
        f"min_announce_in={round(entry['min_announce'] - now)}"
    )


def stop_when_stdin_closes(stop):
    sys.stdin.read()
    stop.set()


def seed(torrent_file, save_dir):
    session = make_session()
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent_file)
    params.save_path = save_dir
    handle = session.add_torrent(params)

    stop = threading.Event()
    threading.Thread(target=stop_when_stdin_closes, args=(stop,), daemon=True).start()
    deadline = time.monotonic() + MAX_LIFETIME
    announced = ready = False
    while not stop.is_set() and time.monotonic() < deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            log(f"{type(alert).__name__}: {alert.message()}")
            if isinstance(alert, lt.tracker_reply_alert):
                announced = True
        status = handle.status()
        if not ready and announced and status.is_seeding:
            ready = True
            log(f"seeding on 127.0.0.1:{session.listen_port()}")
            print(f"ready {announce_schedule(handle)}", flush=True)
    log("stopping")


def main(argv):
    if len(argv) == 5 and argv[1] == "make-torrent":
        make_torrent(argv[2], argv[3], argv[4])
    elif len(argv) == 3 and argv[1] == "info-hash":
        info_hash(argv[2])
    elif len(argv) == 4 and argv[1] == "tracker-error":
        tracker_error(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "seed":
        seed(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
