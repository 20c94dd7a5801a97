"""The `hazmat` console script."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import replace
from pathlib import Path

from prometheus_client import start_http_server

from tracker.db.pool import create_pool
from tracker.dev.localstack import EmbeddedBroker, EmbeddedPostgres, StackError, private_dir, write_private
from tracker.dev.simulation import PROTOCOLS, SimulationError
from tracker.maintenance import maintain, maintain_daily
from tracker.serve import create_topics, prepare, serve
from tracker.settings import DEFAULT_METRICS_PORT, Settings, SettingsError
from tracker.worker_processes import WorkerExited, follow_parent, worker_count

log = logging.getLogger("hazmat")
LOG_FIELDS = "%(name)s %(message)s"


def _remember_admin_token(data_dir: Path, token: str | None) -> str | None:
    """The embedded stack keeps the generated admin token beside its data (created mode
    600), so a second `hazmat up` can print it again although the database holds only its
    hash."""
    path = data_dir / "admin_token"
    if token:
        write_private(path, token)
        return token
    return path.read_text().strip() if path.exists() else None


def shown_token(token: str | None, settings: Settings) -> str:
    """A token to print: in full only when this process made it (one given in
    HAZMAT_ADMIN_TOKEN is the operator's already, and logs are read by others)."""
    if not token:
        return "created earlier (set HAZMAT_ADMIN_TOKEN to choose one)"
    if token == settings.admin_token:
        return f"{token[:4]}… (from HAZMAT_ADMIN_TOKEN)"
    return token


# The embedded broker completes a group join after about half the session, and in whole
# seconds (bench/RESULTS.md, start): 4 s joins in 2 s, 6 s in 3 s. Apache Kafka refuses
# sessions under 6 s (group.min.session.timeout.ms), hence the lower one only here.
EMBEDDED_SESSION_TIMEOUT_MS = 4_000


def embedded_broker_settings(settings: Settings, bootstrap: str) -> Settings:
    """Settings for the embedded broker: its address, fetch waits of at least
    HAZMAT_EMBEDDED_FETCH_WAIT_MS (a fetch it cannot finish within the wait returns
    nothing), and a session of at most EMBEDDED_SESSION_TIMEOUT_MS (three heartbeats at least)."""
    worker = settings.worker
    session = max(min(worker.session_timeout_ms, EMBEDDED_SESSION_TIMEOUT_MS), 3 * worker.heartbeat_ms)
    return settings.with_(kafka_bootstrap=bootstrap, worker=replace(
        worker, fetch_wait_ms=max(worker.fetch_wait_ms, settings.embedded_fetch_wait_ms), session_timeout_ms=session))


async def _up(settings: Settings, simulated: int, protocol: str = "mixed") -> None:
    from tracker.dev.simulate import simulate

    started: list[str] = []
    postgres = broker = watch = None
    try:
        if settings.database_url is None:
            postgres = await asyncio.to_thread(EmbeddedPostgres.start, settings.data_dir / "pg")
            settings = settings.with_(database_url=postgres.url)
            started.append(f"PostgreSQL+PostGIS (embedded) {postgres.shown_url}  data: {postgres.data_dir}")
        if settings.kafka_bootstrap is None:
            private_dir(settings.data_dir)
            broker = await asyncio.to_thread(EmbeddedBroker.start, settings.data_dir / "broker.log")
            settings = embedded_broker_settings(settings, broker.bootstrap)
            started.append(f"Kafka-compatible broker (embedded Tansu, in memory) {broker.bootstrap}")
            if settings.embedded_broker_warn_mb:
                watch = asyncio.create_task(broker.watch_memory(settings.embedded_broker_warn_mb << 20))
        token = await prepare(settings, new_broker=broker is not None)
        if postgres is not None:
            token = _remember_admin_token(settings.data_dir, token)

        if simulated and not token:
            raise SettingsError("--simulate needs the admin token: set HAZMAT_ADMIN_TOKEN")
        host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host
        api_url = f"http://{host}:{settings.http_port}"
        jt808_host = "127.0.0.1" if settings.jt808_host in ("0.0.0.0", "::") else settings.jt808_host
        jt808_address = (jt808_host, settings.jt808_port)
        jt809_host = "127.0.0.1" if settings.jt809_host in ("0.0.0.0", "::") else settings.jt809_host
        jt809_address = (jt809_host, settings.jt809_port)

        workers = worker_count(settings)

        def announce() -> None:
            what = f"{workers} stream worker process{'es' if workers > 1 else ''}" if workers else "stream worker"
            lines = [f"hazmat is up (API, {what}, JT/T 808 gateway and JT/T 809 platform links)"]
            lines += [f"  started: {s}" for s in started]
            lines.append(f"  map: {api_url}/  API: {api_url}/v1")
            lines.append(f"  JT/T 808 gateway: {jt808_host}:{settings.jt808_port} (TCP)")
            lines.append(f"  JT/T 809 platform links: {jt809_host}:{settings.jt809_port} (TCP)")
            if settings.jt809_upstream is not None:
                up = settings.jt809_upstream
                lines.append(f"  JT/T 809 upstream: forwarding to {up.host}:{up.port} ({up.version})")
            lines.append(f"  admin token: {shown_token(token, settings)}")
            if simulated:
                lines.append(f"  simulated fleet: {simulated} vehicles ({protocol}) reporting every 10 s")
            lines.append("  stop with Ctrl-C")
            print("\n".join(lines), flush=True)

        await serve(settings, api=True, worker=not workers, worker_processes=workers, jt808=True, jt809=True,
                    maintenance=True, started=announce,
                    alongside=(lambda: simulate(api_url, token, vehicles=simulated, protocol=protocol,
                                                jt808=jt808_address, jt809=jt809_address, scene=True))
                    if simulated else None)
    finally:
        if watch is not None:
            watch.cancel()
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()


async def _simulate(settings: Settings, args: argparse.Namespace) -> None:
    from tracker.dev.simulate import simulate

    token = args.admin_token or settings.admin_token
    if not token:
        raise SettingsError("give --admin-token or set HAZMAT_ADMIN_TOKEN")
    counts = await simulate(args.api, token, vehicles=args.vehicles, carriers=args.carriers,
                            interval_s=args.interval, rounds=args.rounds, protocol=args.protocol,
                            jt808=_address(args.jt808), jt809=_address(args.jt809), scene=args.geofences)
    print(", ".join(f"{what} {n}" for what, n in counts.items()), flush=True)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        raise SettingsError(f"{text!r}: HOST:PORT")
    return host or "127.0.0.1", int(port)


def _require_urls(settings: Settings) -> None:
    missing = [name for name, value in (("HAZMAT_DATABASE_URL", settings.database_url),
                                        ("HAZMAT_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)) if not value]
    if missing:
        raise SettingsError(f"set {' and '.join(missing)} (or use `hazmat up` for the embedded stack)")


async def _api(settings: Settings) -> None:
    _require_urls(settings)
    token = await prepare(settings)
    if token and not settings.admin_token:
        print(f"admin token: {shown_token(token, settings)}", flush=True)
    await serve(settings, api=True, worker=False)


def use_event_loop(name: str) -> None:
    """uvloop (libuv) where chosen: the gateways' many small socket reads and writes cost
    less there (bench/RESULTS.md); asyncio's own loop otherwise."""
    if name == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def serve_metrics(settings: Settings) -> None:
    """/metrics of a role that has no API. An explicit HAZMAT_METRICS_PORT must be free
    (else one clear line and exit status 2); by default 9108, or any free port when another
    process on the machine holds it, so several workers share a machine with no hand-set
    ports (the port taken is logged)."""
    port = settings.metrics_port
    try:
        server, _ = start_http_server(DEFAULT_METRICS_PORT if port is None else port)
    except OSError as exc:
        if port is not None:
            raise SettingsError(f"HAZMAT_METRICS_PORT={port}: {exc.strerror}; choose a free port, "
                                f"or leave it unset to take any free one") from None
        server, _ = start_http_server(0)
    log.info("metrics at http://%s:%d/metrics", *server.server_address[:2])


async def _worker(settings: Settings) -> None:
    if settings.up_pid is not None:  # started by `hazmat up`: its lines in that log marked as its own,
        for handler in logging.getLogger().handlers:  # and the client's group chatter left out (the banner
            handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [worker %(process)d] {LOG_FIELDS}"))
        logging.getLogger("aiokafka").setLevel(logging.WARNING)  # stays in view; "owns partitions" says it all)
        follow_parent(settings.up_pid)
    _require_urls(settings)
    await create_topics(settings)  # migrations are `hazmat migrate`'s: workers start side by side
    serve_metrics(settings)
    await serve(settings, api=False, worker=True)


async def _jt808(settings: Settings) -> None:
    _require_urls(settings)
    await create_topics(settings)  # migrations are `hazmat migrate`'s
    serve_metrics(settings)
    await serve(settings, api=False, worker=False, jt808=True)


async def _jt809(settings: Settings) -> None:
    _require_urls(settings)
    await create_topics(settings)  # migrations are `hazmat migrate`'s
    serve_metrics(settings)
    await serve(settings, api=False, worker=False, jt809=True)


async def _migrate(settings: Settings, revision: str, down: bool) -> None:
    if not settings.database_url:
        raise SettingsError("set HAZMAT_DATABASE_URL")
    from tracker.db import migrate  # (Alembic and SQLAlchemy: a third of a second other commands need not pay)

    await (migrate.downgrade if down else migrate.upgrade)(settings.sqlalchemy_url, revision)


async def _maintain(settings: Settings, daily: bool) -> int:
    """One run (exit status 1 when a part failed), or a run every day until stopped."""
    if not settings.database_url:
        raise SettingsError("set HAZMAT_DATABASE_URL")
    pool = await create_pool(settings.asyncpg_dsn, max_size=2)
    try:
        if daily:
            serve_metrics(settings)
            await maintain_daily(pool, settings)
        done = await maintain(pool, settings)
        print(done.summary(), flush=True)
        return 1 if done.failed else 0
    finally:
        await pool.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hazmat", description="Hazmat tanker tracking backend")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="the whole system on embedded defaults (or HAZMAT_* URLs)")
    up.add_argument("--simulate", type=int, default=0, metavar="N",
                    help="also run a simulated fleet of N vehicles, half of them through JT/T 808 terminals "
                         "and a fifth of the carriers through JT/T 809 platforms (default: none)")
    up.add_argument("--protocol", choices=PROTOCOLS, default="mixed",
                    help="how the simulated fleet reports (default: %(default)s)")
    commands.add_parser("api", help="the HTTP API alone (needs HAZMAT_DATABASE_URL and HAZMAT_KAFKA_BOOTSTRAP)")
    commands.add_parser("worker", help="one stream worker of the consumer group (needs both URLs)")
    commands.add_parser("jt808", help="the JT/T 808 terminal gateway alone, on HAZMAT_JT808_PORT (needs both URLs)")
    commands.add_parser("jt809", help="the JT/T 809 server for carriers' platforms alone, on HAZMAT_JT809_PORT, and "
                        "the client toward the provincial platform when HAZMAT_JT809_UPSTREAM is set (needs both URLs)")
    mig = commands.add_parser("migrate", help="bring the database to the latest schema (Alembic)")
    mig.add_argument("revision", nargs="?", default=None, help="target revision (default: head; base with --down)")
    mig.add_argument("--down", action="store_true", help="downgrade instead of upgrade")
    mnt = commands.add_parser("maintain", help="retention: drop day partitions of positions past "
                              "HAZMAT_POSITIONS_RETENTION_DAYS, create the days ahead, prune dead letters, "
                              "published outbox rows and old checkpoints (violations are kept)")
    mnt.add_argument("--daily", action="store_true",
                     help="run now and every 24 h until stopped, serving metrics on HAZMAT_METRICS_PORT")
    sim = commands.add_parser("simulate", help="a simulated fleet posting fixes to a running API")
    sim.add_argument("--api", default="http://127.0.0.1:8080", help="the API's base URL (default: %(default)s)")
    sim.add_argument("--admin-token", help="an admin token (default: HAZMAT_ADMIN_TOKEN)")
    sim.add_argument("--vehicles", type=int, default=668, help="default: %(default)s")
    sim.add_argument("--carriers", type=int, default=25, help="default: %(default)s")
    sim.add_argument("--interval", type=float, default=10.0, help="seconds between a vehicle's fixes (default: %(default)s)")
    sim.add_argument("--rounds", type=int, default=None, help="stop after this many rounds (default: run until Ctrl-C)")
    sim.add_argument("--protocol", choices=PROTOCOLS, default="http",
                     help="http: every vehicle posts to the API; jt808: every vehicle is a JT/T 808 terminal; "
                          "jt809: every carrier reports through a JT/T 809 platform; mixed: a fifth of the carriers "
                          "through platforms, the other vehicles half and half (default: %(default)s)")
    sim.add_argument("--jt808", default="127.0.0.1:7808", metavar="HOST:PORT",
                     help="the JT/T 808 gateway (default: %(default)s)")
    sim.add_argument("--jt809", default="127.0.0.1:7809", metavar="HOST:PORT",
                     help="the JT/T 809 server for carriers' platforms (default: %(default)s)")
    sim.add_argument("--geofences", action="store_true",
                     help="also load the sample Beilun geofences, add vehicles that break the rules, post filling records")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s %(levelname)s {LOG_FIELDS}")
    try:
        settings = Settings.from_env()
        use_event_loop(settings.event_loop)
        if args.command == "up":
            asyncio.run(_up(settings, args.simulate, args.protocol))
        elif args.command == "simulate":
            asyncio.run(_simulate(settings, args))
        elif args.command == "api":
            asyncio.run(_api(settings))
        elif args.command == "worker":
            asyncio.run(_worker(settings))
        elif args.command == "jt808":
            asyncio.run(_jt808(settings))
        elif args.command == "jt809":
            asyncio.run(_jt809(settings))
        elif args.command == "maintain":
            return asyncio.run(_maintain(settings, args.daily))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings, args.revision or ("base" if args.down else "head"), args.down))
    except (SettingsError, StackError, SimulationError, WorkerExited) as exc:
        print(f"hazmat: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
