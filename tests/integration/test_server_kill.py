"""The web server is SIGKILLed in the middle of a studio form upload, twice: while the request body
is still arriving, and once it has arrived and the recording is on its way to S3 (its Episode row
flushed inside an open transaction). Neither kill leaves a row or a stored object. The second
leaves the request's spool file in INSTANCE_PATH/uploads: `clinex doctor` reports it and `--fix`
removes it, while a spool that a live request still holds is neither. A server started again on
the same database and store then takes the same recording whole: rows, the original in S3, jobs
queued.

The server runs with --no-worker, so the queued jobs stay queued where the test can see them. The
store is moto's S3 app on loopback (test_storage_faults' StoppableS3), told to hold multipart
parts, so the second kill lands inside the store's call rather than somewhere near it. The server
gets a TMPDIR of its own, so whatever it spools there can be seen, and seen gone.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import FIXTURES, ROOT, free_port
from tests.integration.test_storage_faults import StoppableS3, s3  # noqa: F401  (the fixture)
from tests.integration.workers import visible_broker_messages, wait_for

pytestmark = [pytest.mark.services]

SPEECH = FIXTURES / "audio" / "good" / "speech.mp3"
SECONDS = 220  # 48 kHz stereo 16-bit WAV: about 42 MB, three multipart parts on S3
EMAIL, PASSWORD = "summarizer@example.org", "a long enough passphrase"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def recording(tmp_path) -> Path:
    from pipeline.audio.ffmpeg import ffmpeg_binary

    path = tmp_path / "round-table.wav"
    subprocess.run([ffmpeg_binary(), "-v", "error", "-stream_loop", "-1", "-i", str(SPEECH), "-t", str(SECONDS),
                    "-ar", "48000", "-ac", "2", "-c:a", "pcm_s16le", str(path)], check=True, timeout=120)
    return path


class Server:
    """`clinex serve --no-worker` (or with its embedded worker) in a session of its own, its log in a file."""

    def __init__(self, env: dict, log: Path, worker: bool = False):
        self.port, self.log = free_port(), log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--host", "127.0.0.1", "--port",
                                          str(self.port), "--threads", "4", "--worker" if worker else "--no-worker"],
                                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_serving(self) -> None:
        wait_for(self._answers, 90, "clinex serve to answer")

    def _answers(self) -> bool:
        assert self.proc.poll() is None, f"clinex serve exited:\n{self.output()}"
        try:
            return requests.get(f"{self.base}/login", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def open_files(self) -> list[str]:
        """What the server process has open, as /proc shows it ("... (deleted)" for unnamed files)."""
        fds = Path(f"/proc/{self.proc.pid}/fd")
        names = []
        for fd in fds.iterdir():
            try:
                names.append(os.readlink(fd))
            except FileNotFoundError:  # closed while we looked
                pass
        return names

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the server and anything it started (ffmpeg)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)


class FormUpload:
    """A studio form post sent by hand over one connection, so the test decides when each byte goes."""

    def __init__(self, server: Server, web: requests.Session, recording: Path, title: str):
        page = web.get(f"{server.base}/studio/upload", timeout=30)
        assert page.status_code == 200, page.text[:500]
        boundary = uuid.uuid4().hex
        fields = {"csrf_token": _CSRF.search(page.text).group(1), "title": title}
        head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                        for name, value in fields.items())
        self.head = head + (f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; '
                            f'filename="{recording.name}"\r\nContent-Type: audio/wav\r\n\r\n').encode()
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.recording = recording
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        self.conn.putrequest("POST", "/studio/upload")
        self.conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        self.conn.putheader("Content-Length", str(len(self.head) + recording.stat().st_size + len(self.tail)))
        self.conn.putheader("Cookie", "; ".join(f"{c.name}={c.value}" for c in web.cookies))
        self.conn.endheaders()
        self.conn.send(self.head)
        self.sent = 0

    def send_file(self, upto: int | None = None) -> None:
        with open(self.recording, "rb") as fh:
            fh.seek(self.sent)
            while (upto is None or self.sent < upto) and (block := fh.read(1024 * 1024)):
                self.conn.send(block)
                self.sent += len(block)

    def finish(self) -> http.client.HTTPResponse:
        self.send_file()
        self.conn.send(self.tail)
        return self.conn.getresponse()


def sign_in(server: Server) -> requests.Session:
    web = requests.Session()
    page = web.get(f"{server.base}/login", timeout=30)
    answer = web.post(f"{server.base}/login", allow_redirects=False, timeout=60,
                      data={"email": EMAIL, "password": PASSWORD, "csrf_token": _CSRF.search(page.text).group(1)})
    assert answer.status_code == 302, answer.text[:500]
    return web


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@dataclass
class Instance:
    """One database, one store and the server's own TMPDIR, shared by every server the test starts."""

    settings: object
    ctx: object
    env: dict
    s3: StoppableS3
    tmp: Path
    log: Path
    servers: list[Server] = field(default_factory=list)

    @property
    def uploads(self) -> Path:
        return self.settings.instance_path / "uploads"

    def serve(self) -> Server:
        self.servers.append(Server(self.env, self.log))
        self.servers[-1].wait_serving()
        return self.servers[-1]

    def assert_nothing_stored(self) -> None:
        from pipeline.models import AuditEvent, Episode, Event, Job, MediaFile, Summary, Tag

        with self.ctx.sessions() as session:
            for model in (Episode, MediaFile, Job, Summary, Event, Tag, AuditEvent):
                assert session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
        assert self.s3.client.list_objects_v2(Bucket=self.s3.bucket).get("KeyCount") == 0

    def doctor(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "webapp", "doctor", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)


@pytest.fixture
def instance(tmp_path, s3) -> Instance:
    from pipeline.settings import ensure_instance, load_settings
    from webapp import ops

    values = {"INSTANCE_PATH": str(tmp_path / "instance"), "STORAGE_URL": f"s3://{s3.bucket}/media",
              "S3_ENDPOINT_URL": s3.url, "S3_ADDRESSING_STYLE": "path", "BASE_URL": "http://clinex.test",
              "SECRET_KEY": "s"}
    settings = ensure_instance(load_settings(values))
    ops.upgrade(settings)
    ops.add_user(EMAIL, "Summarizer", "summarizer", PASSWORD, settings=settings)
    server_tmp = (tmp_path / "server-tmp").resolve()
    server_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(server_tmp), **{f"CLINEX_{k}": v for k, v in values.items()}}
    made = Instance(settings, ops.context(settings), env, s3, server_tmp, tmp_path / "serve.log")
    yield made
    for server in made.servers:
        server.stop()
    if made.servers:
        print(made.servers[-1].output())


def test_a_server_killed_mid_upload_leaves_nothing_half_stored_and_takes_the_upload_after_a_restart(
        instance, recording):
    kill_while_the_body_arrives(instance, recording)
    spool = kill_while_the_recording_goes_to_s3(instance, recording)
    assert_the_doctor_removes_the_spool(instance, spool)
    assert_a_new_server_takes_the_recording_whole(instance, recording)


def kill_while_the_body_arrives(instance: Instance, recording: Path) -> None:
    """Half the body sent: waitress holds it in an unnamed file of its TMPDIR, the app has not run."""
    from pipeline.doctor import diagnose

    server = instance.serve()
    upload = FormUpload(server, sign_in(server), recording, "Killed while arriving")
    upload.send_file(upto=recording.stat().st_size // 2)
    wait_for(lambda: any(f.startswith(f"{instance.tmp}/") for f in server.open_files()), 60,
             "the server to spool the arriving body")
    server.kill()
    with pytest.raises(ConnectionError):
        upload.finish()
    instance.assert_nothing_stored()
    assert files_under(instance.uploads) == [] and files_under(instance.tmp) == []
    report = diagnose(instance.ctx)
    assert report.healthy, report.as_dict()


def kill_while_the_recording_goes_to_s3(instance: Instance, recording: Path) -> Path:
    """The whole body sent, the Episode row flushed, the first parts held by S3: SIGKILL. Returns
    the spool the killed request left behind."""
    from pipeline.doctor import diagnose

    server, s3 = instance.serve(), instance.s3
    s3.hold_parts = True
    upload = FormUpload(server, sign_in(server), recording, "Killed while storing")
    upload.send_file()
    upload.conn.send(upload.tail)
    assert s3.part_arrived.wait(120), f"no part of the original reached S3:\n{server.output()}"
    [spool] = files_under(instance.uploads)
    assert spool.stat().st_size == recording.stat().st_size
    live = diagnose(instance.ctx)  # a spool its request still holds is no leftover
    # (The multipart upload in progress is not checked here: moto dates every upload 2010, so it
    # looks older than the doctor's grace period for uploads in progress.)
    assert not (live.leftover_uploads or live.orphans or live.missing_media or live.stale_jobs
                or live.stuck_episodes), live.as_dict()
    server.kill()
    s3.released.set()  # the held parts are answered 503, to nobody
    s3.hold_parts = False
    with pytest.raises(ConnectionError):
        upload.conn.getresponse()
    instance.assert_nothing_stored()
    assert files_under(instance.tmp) == []
    assert files_under(instance.uploads) == [spool], "the killed request's spool is what it leaves behind"
    return spool


def assert_the_doctor_removes_the_spool(instance: Instance, spool: Path) -> None:
    found = instance.doctor("--json")
    assert found.returncode == 1, found.stdout + found.stderr
    report = json.loads(found.stdout)
    assert [u["path"] for u in report["leftover_uploads"]] == [str(spool)], report
    assert report["orphans"] == [] and report["stale_jobs"] == [] and report["stuck_episodes"] == [], report
    # The store was cut off mid multipart upload: its parts are invisible but kept (and billed).
    [unfinished] = report["unfinished_uploads"]
    assert unfinished["key"].startswith("originals/"), report
    fixed = instance.doctor("--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert f"deleted leftover upload {spool}" in fixed.stdout, fixed.stdout
    assert f"aborted the unfinished upload of {unfinished['key']}" in fixed.stdout, fixed.stdout
    assert instance.s3.client.list_multipart_uploads(Bucket=instance.s3.bucket).get("Uploads", []) == []
    assert files_under(instance.uploads) == []
    again = instance.doctor()
    assert again.returncode == 0 and "No problems found." in again.stdout, again.stdout + again.stderr


def assert_a_new_server_takes_the_recording_whole(instance: Instance, recording: Path) -> None:
    """Same database, same store: the same file is no duplicate of anything, and is stored whole."""
    from pipeline.doctor import diagnose
    from pipeline.models import Episode, Job, MediaFile

    size, sha = recording.stat().st_size, hashlib.sha256(recording.read_bytes()).hexdigest()
    server = instance.serve()
    web = sign_in(server)
    page = web.get(f"{server.base}/studio/upload", timeout=30)
    with open(recording, "rb") as fh:
        answer = web.post(f"{server.base}/studio/upload", allow_redirects=False, timeout=300,
                          data={"csrf_token": _CSRF.search(page.text).group(1), "title": "After the restart"},
                          files={"audio": (recording.name, fh, "audio/wav")})
    assert answer.status_code == 302, answer.text[:1000]
    episode_id = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with instance.ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Episode)) == 1
        episode = session.get(Episode, episode_id)
        assert (episode.title, episode.status) == ("After the restart", "processing")
        [original] = session.scalars(select(MediaFile).where(MediaFile.episode_id == episode_id)).all()
        assert (original.kind, original.size, original.sha256) == ("original", size, sha)
        key = f"media/{original.storage_key}"
        jobs = session.scalars(select(Job).where(Job.episode_id == episode_id)).all()
        assert sorted((j.kind, j.state) for j in jobs) == [("prepare_audio", "queued"), ("transcribe", "queued")]
    s3 = instance.s3
    head = s3.client.head_object(Bucket=s3.bucket, Key=key)
    assert (head["ContentLength"], head["Metadata"]["sha256"]) == (size, sha)
    assert [o["Key"] for o in s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]] == [key]
    assert visible_broker_messages(instance.settings) == len(jobs)  # sent, waiting for a worker
    wait_for(lambda: files_under(instance.uploads) == [], 30, "the finished request's spool to be removed")
    report = diagnose(instance.ctx)
    assert report.healthy, report.as_dict()


def running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_the_embedded_worker_stops_when_the_server_is_killed(instance):
    server = Server(instance.env, instance.log, worker=True)
    instance.servers.append(server)
    server.wait_serving()
    started = re.search(r"Worker started \(pid (\d+)\)", server.output())
    assert started, server.output()
    worker = int(started.group(1))
    assert running(worker)
    server.kill()
    # No orphan left running jobs for a server that is gone.
    wait_for(lambda: not running(worker), 60, "the embedded worker to stop after its server died")
