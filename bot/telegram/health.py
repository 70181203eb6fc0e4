"""``GET /health`` for the gateway: what a supervisor, a load balancer or `acollida run` asks before calling it up.

200 when the gateway receives updates and reaches its database (and Redis,
when replicas share it); 503 naming what is down otherwise. The answer
carries no personal data.
"""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy import text

log = logging.getLogger(__name__)


async def check(gateway: Any) -> tuple[bool, dict[str, Any]]:
    problems = []
    try:
        await gateway.messenger.db(lambda session: session.execute(text("SELECT 1")))
    except Exception as error:  # any failure to reach the database is "down", named by its type
        problems.append(f"database: {type(error).__name__}")
    if gateway.redis is not None:
        try:
            await gateway.redis.ping()
        except Exception as error:
            problems.append(f"redis: {type(error).__name__}")
    body = {
        "role": "gateway",
        "status": "ok" if not problems else "down",
        "receiving": "webhook" if gateway.config.webhook_mode else "polling",
        "shared_state": "redis" if gateway.redis is not None else "memory",
    }
    if problems:
        body["problems"] = problems
    return not problems, body


async def serve(gateway: Any) -> web.AppRunner:
    """Starts the endpoint on the configured address; the caller cleans the runner up."""

    async def health(request: web.Request) -> web.Response:
        healthy, body = await check(gateway)
        return web.json_response(body, status=200 if healthy else 503)

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, gateway.config.health_listen, gateway.config.health_port).start()
    log.info("gateway health on http://%s:%s/health", gateway.config.health_listen, gateway.config.health_port)
    return runner
