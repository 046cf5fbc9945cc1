#!/usr/bin/env python3
"""A fault-injecting HTTP relay for loopback tests of the store.

It sits in front of a real S3 server and, for a given fraction of requests,
answers 503 SlowDown without asking the server, cuts the connection in the
middle of the response body, stalls mid-body (then closes), or flips a byte
of a body that carries an x-amz-checksum-crc32c (same length, so only the
checksum can catch it). Everything
else is relayed byte for byte, so SigV4 signatures stay valid (the Host
header is forwarded unchanged).

Usage: fault_relay.py --upstream 127.0.0.1:8333 --rate 0.2 [--port 0] [--seed N] [--stats FILE]
                      [--kinds slowdown,cut,stall,corrupt]
Prints "PORT <n>" on stdout once listening; runs until killed.
"""
import argparse
import asyncio
import random
import sys

SLOWDOWN = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>")


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return head, body


def force_close(head):
    """Ask the upstream to close after its response so EOF frames it."""
    lines = [l for l in head.split(b"\r\n") if l and not l.lower().startswith(b"connection:")]
    return b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n"


async def relay_one(args, rng, head, body, writer, stats):
    up_host, up_port = args.upstream.rsplit(":", 1)
    fault = None
    if rng.random() < args.rate:
        fault = rng.choice(args.kinds)
    stats[fault or "ok"] = stats.get(fault or "ok", 0) + 1
    if fault == "slowdown":
        writer.write(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n"
                     % len(SLOWDOWN) + SLOWDOWN)
        await writer.drain()
        return True
    ur, uw = await asyncio.open_connection(up_host, int(up_port))
    uw.write(force_close(head) + body)
    await uw.drain()
    response = await ur.read()  # the upstream closes after one response
    uw.close()
    if fault is None or b"\r\n\r\n" not in response:
        writer.write(response)
        await writer.drain()
        return b"connection: close" not in response.lower()
    split = response.index(b"\r\n\r\n") + 4
    body_len = len(response) - split
    if fault == "corrupt":
        # Flip one body byte, same length: only a checksum can catch this, so
        # corrupt only responses that carry one (whole-object GETs).
        if b"x-amz-checksum-crc32c" in response[:split].lower() and body_len > 0 and b" 20" in response[:15]:
            at = split + body_len // 2
            response = response[:at] + bytes([response[at] ^ 0x5A]) + response[at + 1:]
            stats["corrupted"] = stats.get("corrupted", 0) + 1
        writer.write(response)
        await writer.drain()
        return False
    cut = split + (body_len // 2 if body_len > 1 else 0)
    writer.write(response[:cut])
    await writer.drain()
    if fault == "stall":
        await asyncio.sleep(args.stall)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # RST rather than FIN: a reset mid-body, the way a dying server looks
        import socket
        import struct
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    return False


async def handle(reader, writer, args, rng, stats):
    try:
        while True:
            try:
                head, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            # The response of this relay always carries the upstream's framing
            # plus Connection: close, so one request per client connection.
            await relay_one(args, rng, head, body, writer, stats)
            if args.stats:
                with open(args.stats, "w") as f:
                    f.write(" ".join("%s=%d" % kv for kv in sorted(stats.items())) + "\n")
            break
    except ConnectionError:
        pass  # the client hung up early (it had what it needed)
    except Exception as e:  # a broken test client must not kill the relay
        print("relay error:", repr(e), file=sys.stderr)
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--stall", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stats", help="file rewritten with fault counts after each request")
    ap.add_argument("--kinds", default="slowdown,slowdown,cut,cut,stall,corrupt",
                    help="faults to draw from (repeat one to make it likelier)")
    args = ap.parse_args()
    args.kinds = args.kinds.split(",")
    rng = random.Random(args.seed)
    stats = {}
    server = await asyncio.start_server(lambda r, w: handle(r, w, args, rng, stats), "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print("PORT", port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
