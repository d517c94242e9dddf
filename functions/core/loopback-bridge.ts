/**
 * The loopback bridge: a small forwarder that runs beside the app in the task's network namespace
 * (Docker's shared namespace locally, awsvpc on Fargate) for apps that listen where the service
 * cannot reach them, e.g. `uvicorn.run(app, host="127.0.0.1", port=8080)` written in their code.
 *
 * It reads the namespace's listening sockets (/proc/net/tcp and tcp6) until the app listens, then:
 * - the app listens on the expected port on a non-loopback address (0.0.0.0, ::): nothing to do,
 *   it says so and exits 0;
 * - the app listens on the expected port on loopback only: it listens on each non-loopback address
 *   of the task's interfaces at that port (a specific address beside the app's 127.0.0.1 bind of
 *   the same port is allowed) and forwards every connection to the app's loopback address;
 * - the app listens on another port only (stable for two seconds): it listens on all interfaces at
 *   the expected port and forwards to the app's port.
 * It prints one line saying what it bridges. It uses the app image's python3 and nothing else.
 * Docker's embedded DNS (127.0.0.11) and the database sidecar's port are not the app.
 */
export const loopbackBridgeScript = String.raw`
import fcntl, socket, struct, sys, threading, time

expected = int(sys.argv[1])
ignored = {int(p) for p in sys.argv[2].split(",") if p}


def address(hex_address):
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    return socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))


def listeners():
    found = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as table:
                rows = table.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == "0A":
                host, port = fields[1].split(":")
                found.add((address(host), int(port, 16)))
    return {(h, p) for h, p in found if p not in ignored and h != "127.0.0.11"}


def loopback(host):
    return host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")


def interface_addresses():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    found = []
    for _, name in socket.if_nameindex():
        try:
            packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
        except OSError:
            continue
        host = socket.inet_ntoa(packed[20:24])
        if not loopback(host):
            found.append(host)
    return found


def pump(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    for end, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
        try:
            end.shutdown(how)
        except OSError:
            pass


def serve(server, upstream):
    while True:
        client, _ = server.accept()
        try:
            app = socket.create_connection(upstream)
        except OSError:
            client.close()
            continue
        for a, b in ((client, app), (app, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def main():
    stable_since, previous = time.monotonic(), set()
    while True:
        found = listeners()
        if found != previous:
            stable_since, previous = time.monotonic(), found
        on_expected = [h for h, p in found if p == expected]
        if on_expected or (found and time.monotonic() - stable_since >= 2):
            break
        time.sleep(0.2)
    if any(not loopback(h) for h in on_expected):
        print(f"bridge: the app listens on port {expected} of the task's interfaces; nothing to bridge", flush=True)
        return
    if on_expected:
        upstream, hosts = (on_expected[0], expected), interface_addresses()
        why = f"the app listens on {on_expected[0]}:{expected} only"
    else:
        host, port = min(found, key=lambda listener: listener[1])
        upstream = ({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), port)
        hosts, why = ["0.0.0.0"], f"the app listens on port {port}, not {expected}"
    servers = []
    for host in hosts:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((host, expected))
        server.listen(128)
        servers.append(server)
        print(f"bridge: forwarding {host}:{expected} to {upstream[0]}:{upstream[1]} ({why})", flush=True)
    workers = [threading.Thread(target=serve, args=(s, upstream), daemon=True) for s in servers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


main()
`;
