"""A loopback TCP proxy that adds a fixed delay to each direction: a remote target on one machine.

Every chunk read from one side is written to the other ``delay`` seconds after it arrived, so a
request/response round trip costs ``2 * delay`` more, while pipelined bytes keep their pace (the
delay is latency, not bandwidth). Loopback only, both ends.

    .venv/bin/python benchmarks/delay_proxy.py --listen 9191 --upstream 9091 --delay-ms 50

Used by ``benchmarks/remote_target.py`` in a thread (:class:`DelayProxy`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time

LOOPBACK = "127.0.0.1"
CHUNK = 64 * 1024


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``delay`` seconds after it arrived; EOF passes too."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                queue.put_nowait((time.monotonic() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((time.monotonic() + delay, b""))

    reading = asyncio.create_task(read())
    try:
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                with contextlib.suppress(OSError):
                    if writer.can_write_eof():
                        writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        return
    finally:
        reading.cancel()


class DelayProxy:
    """The proxy on a free (or given) loopback port, served by an event loop in a daemon thread."""

    def __init__(self, upstream_port: int, delay_seconds: float, *, listen_port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.delay = delay_seconds
        self.port = listen_port
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="delay-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(self.delay)  # the SYN crossing the network
        # From the client's own address: the reference tells subscribers' devices (loopback aliases) by it.
        peer = client_writer.get_extra_info("peername")
        source = (peer[0], 0) if peer else None
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(LOOPBACK, self.upstream_port,
                                                                             local_addr=source)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(_pump(client_reader, upstream_writer, self.delay),
                                 _pump(upstream_reader, client_writer, self.delay))
        except asyncio.CancelledError:
            pass  # stop(): a kept-alive connection ends here
        finally:
            for writer in (upstream_writer, client_writer):
                with contextlib.suppress(OSError):
                    writer.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, LOOPBACK, self.port)
            self.port = self._server.sockets[0].getsockname()[1]
            self._started.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def start(self) -> DelayProxy:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the delay proxy did not start")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:  # connections still open (keep-alive): end them quietly
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(5)

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True, help="loopback port to listen on")
    parser.add_argument("--upstream", type=int, required=True, help="loopback port to forward to")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="delay per direction (default 50)")
    args = parser.parse_args()
    proxy = DelayProxy(args.upstream, args.delay_ms / 1000, listen_port=args.listen).start()
    print(f"delay proxy: 127.0.0.1:{proxy.port} -> 127.0.0.1:{args.upstream}, {args.delay_ms:g} ms per direction")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
