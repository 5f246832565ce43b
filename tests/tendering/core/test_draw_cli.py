"""``tendering draws verify TRANSCRIPT.json``, as a bureau runs it on its own machine."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tendering.cli import main
from tendering.core.draw import Category, Exclusion, run_draw, sign_transcript
from tendering.core.signing import PlatformKey

KEY = PlatformKey(Ed25519PrivateKey.generate())


def _transcript() -> dict:
    categories = [
        Category.of(
            "A0801",
            count=5,
            backups=2,
            pool=[(f"E-{n:04d}", 1) for n in range(40)],
            excluded=[Exclusion("E-9999", "relation", "申报的亲属关系: BID-0002")],
        )
    ]
    return sign_transcript(
        run_draw(
            draw="D-2026-0007",
            server_secret=bytes(32),
            witness_entropy="赵红 9431",
            categories=categories,
        ),
        KEY,
    )


@pytest.fixture
def transcript_file(tmp_path: Path) -> Path:
    path = tmp_path / "D-2026-0007.json"
    path.write_text(json.dumps(_transcript(), ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def platform_url() -> Iterator[str]:
    body = json.dumps({"algorithm": "Ed25519", "public_key": KEY.public_b64}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = 200 if self.path == "/api/platform/key" else 404
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body if status == 200 else b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["draws", "verify", *args], env=env)


def test_a_good_transcript_exits_0_with_the_key_given(transcript_file: Path) -> None:
    result = _run(str(transcript_file), "--key", KEY.public_b64)
    assert result.exit_code == 0, result.output
    assert "The transcript of draw D-2026-0007 checks out" in result.output


def test_the_key_is_fetched_from_the_platform(transcript_file: Path, platform_url: str) -> None:
    result = _run(str(transcript_file), "--url", platform_url, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"draw": "D-2026-0007", "ok": True, "problems": []}


def test_the_local_platform_key_is_used_without_options(
    transcript_file: Path, tmp_path: Path
) -> None:
    seed = KEY.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    env = {
        "TENDERING_SIGNING_KEY": base64.b64encode(seed).decode(),
        "TENDERING_DATA_DIR": str(tmp_path / "data"),
    }
    assert _run(str(transcript_file), env=env).exit_code == 0


def test_a_tampered_transcript_exits_1_with_every_problem(transcript_file: Path) -> None:
    document = json.loads(transcript_file.read_text(encoding="utf-8"))
    document["categories"][0]["picks"].reverse()
    transcript_file.write_text(json.dumps(document), encoding="utf-8")
    result = _run(str(transcript_file), "--key", KEY.public_b64)
    assert result.exit_code == 1
    assert "does NOT check out" in result.output
    assert "the picks of A0801 differ from a re-run" in result.output
    assert "signature does not match" in result.output


@pytest.mark.parametrize(
    ("content", "words"), [(b"\xff\xfe", "is not a JSON document"), (b"{", "not a JSON")]
)
def test_an_unreadable_file_exits_2(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = _run(str(path), "--key", KEY.public_b64)
    assert result.exit_code == 2
    assert words in result.output


def test_a_bad_key_or_a_dead_url_exits_2(transcript_file: Path, platform_url: str) -> None:
    assert _run(str(transcript_file), "--key", "abc").exit_code == 2
    missing = _run(str(transcript_file), "--url", platform_url + "/nowhere")
    assert missing.exit_code == 2
    assert "cannot read the platform key" in missing.output


def test_no_key_at_all_says_how_to_give_one(transcript_file: Path, tmp_path: Path) -> None:
    result = _run(
        str(transcript_file),
        env={"TENDERING_DATA_DIR": str(tmp_path / "empty"), "TENDERING_SIGNING_KEY": ""},
    )
    assert result.exit_code == 2
    assert "pass --key" in result.output
