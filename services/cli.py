"""The ``kimhub`` command.

  kimhub run                 every service in one process (embedded broker unless KIMHUB_KAFKA_BOOTSTRAP)
  kimhub serve COMPONENT...  one service (or a few): gateway | gate | delivery | relay
  kimhub migrate             apply database migrations and exit
  kimhub token USER          print a dev bearer token for a demo user (auth_mode=dev)
  kimhub kafka acls [--apply]  the broker ACLs per component and office (deploy/README.md)
  kimhub keys ...            master, delivery signing and office keys (services/keys/cli.py)
  kimhub retention cases [--now ISO]  erase the cases archived longer than KIMHUB_CASE_RETENTION_DAYS
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys

from services import kafka_acls
from services.audit import cli as audit_cli
from services.cases import cli as retention_cli
from services.health import serve_health
from services.keys import cli as keys_cli
from services.keys.holder import KeysMissing
from services.runtime import COMPONENTS, Hub, StartupRefused
from services.infrastructure import logs, tracing
from services.infrastructure.kafka_security import KafkaSecurityError
from services.kernel.settings import Settings


def _announce(settings: Settings, text: str) -> None:
    """A line for whoever started the process: plain on stdout, or a log line when logs are JSON."""
    if settings.log_format == "json":
        logging.getLogger("kimhub").info(text)
    else:
        print(text, flush=True)


async def _serve(settings: Settings, components: tuple[str, ...]) -> None:
    # Signal handlers first: a SIGTERM during start-up must also end in a clean stop.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tracing.configure(settings, components)
    hub = Hub(settings, components)
    try:
        await hub.start()
        if stop.is_set():
            return
        if "gateway" in components:
            import uvicorn

            from gateway.app import create_app

            config = uvicorn.Config(create_app(hub), host=settings.http_host, port=settings.http_port,
                                    log_level=settings.log_level.lower(), access_log=False, lifespan="off",
                                    log_config=None)  # uvicorn's lines go through the hub's handler
            server = uvicorn.Server(config)
            exempt_startup_objects_from_gc()
            _announce(settings, f"kimhub listening on http://{settings.http_host}:{settings.http_port}")
            await server.serve()  # installs its own handlers; returns on SIGINT / SIGTERM
        else:
            health = await serve_health(hub, settings.http_host, settings.health_port) if settings.health_port else None
            exempt_startup_objects_from_gc()
            _announce(settings, f"kimhub {', '.join(components)} running")
            await stop.wait()
            if health:
                health.close()
    finally:
        await hub.stop()


def exempt_startup_objects_from_gc() -> None:
    """Move what start-up created (modules, contracts, SQL metadata, the directory: ~120k
    objects) out of the cyclic garbage collector's reach. Otherwise every full collection walks
    them all again: measured under load, 4-7 full collections a minute of 80-140 ms each, every
    one a pause of the whole event loop and so of every transfer in flight. A later full
    collection only walks what was created after this point (CPython's ``gc.freeze``)."""
    gc.collect()
    gc.freeze()


async def _migrate(settings: Settings) -> None:
    from services.migrations import migrate
    from services.infrastructure.db import create_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.effective_database_url, settings.db_pool_size)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def _run(coro) -> None:
    """Run the services on uvloop where it is installed (less CPU per socket read and write)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro)


def _token(parser: argparse.ArgumentParser, settings: Settings, user: str) -> None:
    from gateway.auth import issue_dev_token

    if settings.auth_mode != "dev":
        parser.error("tokens are issued by the OIDC provider when KIMHUB_AUTH_MODE=oidc")
    try:
        print(issue_dev_token(settings, user))
    except KeyError as exc:
        parser.error(str(exc.args[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kimhub", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run every service in one process")
    serve = sub.add_parser("serve", help="run one service (or a few, e.g. 'serve gate relay')")
    serve.add_argument("component", nargs="+", choices=COMPONENTS)
    sub.add_parser("migrate", help="apply database migrations")
    token = sub.add_parser("token", help="print a dev token for a demo user")
    token.add_argument("user")
    audit_cli.add_parser(sub)
    kafka_acls.add_parser(sub)
    keys_cli.add_parser(sub)
    retention_cli.add_parser(sub)
    args = parser.parse_args(argv)

    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    try:
        if args.command == "run":
            _run(_serve(settings, COMPONENTS))
        elif args.command == "serve":
            _run(_serve(settings, tuple(dict.fromkeys(args.component))))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
            print("database is up to date")
        elif args.command == "audit":
            return audit_cli.run(args, settings)
        elif args.command == "kafka":
            return kafka_acls.run(args, settings)
        elif args.command == "keys":
            return keys_cli.run(args, settings)
        elif args.command == "retention":
            return retention_cli.run(args, settings)
        elif args.command == "token":
            _token(parser, settings, args.user)
    except (StartupRefused, KafkaSecurityError, KeysMissing) as exc:
        print(f"kimhub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
