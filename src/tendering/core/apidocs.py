"""The API docs page (``/schema``): Swagger UI served by the platform itself.

Litestar's Swagger plugin loads its scripts from a public CDN without integrity hashes, so
whoever serves (or intercepts) that CDN runs script in a page where staff are logged in.
Here the page loads Swagger UI's files from the ``swagger-ui-py`` package, served at
``/schema/assets/<name>`` from a fixed list, and no inline script: the page's one script of
its own is an asset too, so the Content-Security-Policy of the docs page
(``core/headers.py``) allows scripts from the platform only.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from typing import Any

from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath

from tendering.core.auth.guards import public

__all__ = ["ASSETS", "SelfHostedSwagger"]

# name -> media type: only these are served (the package ships an editor and maps too).
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "start.js": "text/javascript; charset=utf-8",
}

_START = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.schema,
    dom_id: "#swagger-ui",
    deepLinking: true,
    showExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout",
  });
});
"""


@cache
def _asset(name: str) -> bytes:
    if name == "start.js":
        return _START.encode()
    return (files("swagger_ui") / "static" / name).read_bytes()


@get(
    "/assets/{name:str}",
    include_in_schema=False,
    opt=public("the docs page's scripts and styles, the same for everyone"),
    security=[{}],
    cache=3600,
)
async def docs_asset(name: FromPath[str]) -> Response[bytes]:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundException(f"no docs asset {name}")
    return Response(_asset(name), media_type=media_type)


class SelfHostedSwagger(OpenAPIRenderPlugin):
    """Swagger UI whose files come from the platform (``/schema``, ``/schema/swagger``)."""

    def __init__(self, *, path: str = "/swagger", **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        base = request.app.openapi_config.path if request.app.openapi_config else "/schema"
        title = html.escape(str(openapi_schema["info"]["title"]))
        schema_url = html.escape(self.get_openapi_json_route(request))
        page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{base}/assets/swagger-ui.css">
</head>
<body data-schema="{schema_url}">
<div id="swagger-ui"></div>
<script src="{base}/assets/swagger-ui-bundle.js"></script>
<script src="{base}/assets/swagger-ui-standalone-preset.js"></script>
<script src="{base}/assets/start.js"></script>
</body>
</html>
"""
        return page.encode()

    def receive_router(self, router: Router) -> None:
        router.register(docs_asset)
