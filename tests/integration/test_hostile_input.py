"""A corpus of hostile strings put in through the real paths, then every page, feed and JSON file
where they show, parsed with lxml: no live markup anywhere, and the text visible as text.

The data goes in the way people put it in: a JSON API upload (hostile front matter for title,
event, speakers and tags, hostile Markdown notes, a hostile file name), a studio form upload, a
transcript correction, the editor's approval, comments from a trusted and an untrusted listener,
and the editors' tag form. Forms refuse HTML tags in names, comments and notes; the test checks
that a refused string left nothing behind and that what was accepted renders inert. The API's
front matter takes any text, so names carry the whole corpus. Episodes whose titles and events
are the rest of the corpus are made as rows (they would otherwise need one transcription each).
Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069) go in
through every one of those paths, a display name and a glossary term too, and must be stored in
no column and shown on no page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest
import yaml
from lxml import etree, html as lxml_html
from sqlalchemy import select

from tests.conftest import FIXTURES
from tests.webapp.factories import make_episode, make_user
from tests.webapp.conftest import csrf_from, sign_in

pytestmark = pytest.mark.slow  # the setup transcribes an upload with the real model

GOOD = FIXTURES / "audio" / "good"

CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '"><script>alert(2)</script>',
    "'><img src=x onerror=alert(3)>",
    "<img src=x onerror=alert(4)//",
    "<svg onload=alert(5)>",
    "<svg><script>alert(6)</script></svg>",
    '<math><mi xlink:href="javascript:alert(7)">m</mi></math>',
    '<iframe src="javascript:alert(8)"></iframe>',
    '<object data="data:text/html,<script>alert(9)</script>"></object>',
    "<embed src=//evil.example/x.swf>",
    "<style>body{background:url(javascript:alert(10))}</style>",
    '<div style="width: expression(alert(11))">css</div>',
    "<details open ontoggle=alert(12)>",
    "</textarea><script>alert(13)</script>",
    "</title><script>alert(14)</script>",
    "[click](javascript:alert(15))",
    "[click](JaVaScRiPt:alert(16))",
    "[click](&#106;avascript:alert(17))",
    "[click](<javascript:alert(18)>)",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxOSk8L3NjcmlwdD4=)",
    "[vb](vbscript:msgbox(20))",
    "![pic](javascript:alert(21))",
    "<javascript:alert(22)>",
    "[ref][evil]\n\n[evil]: javascript:alert(23)",
    '[ref2]\n\n[ref2]: <javascript:alert(24)> "t"',
    "&lt;script&gt;alert(25)&lt;/script&gt;",
    "&#60;script&#62;alert(26)&#60;/script&#62;",
    '<a href="javascript&colon;alert(27)">colon</a>',
    "]]><script>alert(28)</script><![CDATA[",
    '<base href="//evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(29)">',
    "\u202eevil\u202c \u2066rtl\u2069 zero\u200bwidth",
    "{{ config }} {% print 30 %}",
    "bell\x07 escape\x1b[31m end",
    # every bidirectional embedding, override and isolate control, paired, unpaired and spoofing
    "\u202aLRE\u202c \u202bRLE\u202c \u202dLRO\u202c open\u202e",
    "invoice\u202egpj.exe and \u2066LRI\u2069 \u2067RLI\u2069 \u2068FSI\u2069 \u2067unclosed",
    '" onmouseover="alert(31)" x="',
]

CHAPTER_STRINGS = (16, 18, 26, 27, 33)  # strings without tags, which the chapter form takes
BIDI_AT = 32  # a string with right-to-left overrides and isolates and no tags, which every form takes
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "cite",
                  "srcset", "ping", "manifest", "codebase", "lowsrc", "dynsrc"}
BAD_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:")
LIVE_ELEMENTS = {"iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "style", "base",
                 "template", "portal"}
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]+")  # browsers skip these when they read a URL's scheme
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")  # what every user-written field must lose
SITE_BASE_URL = "http://clinex.test"


def shown(text: str) -> str:
    """Text as a reader sees it: control characters and bidirectional controls gone (the site
    strips those on the way in), whitespace collapsed."""
    return " ".join(BIDI.sub("", _CONTROL.sub("", text)).split())


def live_markup(root, *, own_scripts: bool = True) -> list[str]:
    """Everything in the tree that could run script or load foreign content: on* attributes,
    inline styles, script-bearing URLs, script elements other than the app's own files, frames,
    plug-ins, SVG/MathML, <style>, <base>, <meta http-equiv> and foreign <link>s."""
    found = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue  # comments and processing instructions
        tag = el.tag.rsplit("}", 1)[-1].lower()
        for name, value in el.attrib.items():
            name = name.lower()
            if name.startswith("on") or name in ("style", "srcdoc"):
                found.append(f"<{tag} {name}>")
            elif name in URL_ATTRIBUTES and _URL_IGNORED.sub("", value).lower().startswith(BAD_SCHEMES):
                found.append(f"<{tag} {name}={value[:40]!r}>")
        if tag == "script" and not (own_scripts and _own_script(el)):
            found.append(f"<script src={el.get('src')!r}>{(el.text or '')[:40]}")
        elif tag in LIVE_ELEMENTS or (tag == "meta" and el.get("http-equiv")):
            found.append(f"<{tag}>")
        elif tag == "link" and not (_site_relative(el.get("href", "")) or _own_canonical(el)):
            found.append(f"<link href={el.get('href')!r}>")
    return found


def _own_script(el) -> bool:
    return el.get("src", "").startswith("/static/") and not (el.text or "").strip()


def _own_canonical(el) -> bool:
    """The page's canonical address is absolute by definition, and on the site's own base URL."""
    return el.get("rel") == "canonical" and el.get("href", "").startswith(f"{SITE_BASE_URL}/")


def _site_relative(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


def parse_page(body: str):
    return lxml_html.document_fromstring(body)


def parse_fragment(markup: str):
    return lxml_html.fragment_fromstring(markup or "", create_parent="div")


@dataclass
class Site:
    """The app with the corpus in it, and who and what the tests look at."""

    app: object
    ctx: object
    editor: int
    summarizer: int
    trusted: int
    untrusted: int
    hostile_display_name: str
    real_id: int = 0  # uploaded through the API, processed, approved
    real_slug: str = ""
    form_upload_id: int = 0  # uploaded through the studio form, still processing
    row_slugs: list[str] = field(default_factory=list)
    accepted_comments: list[int] = field(default_factory=list)  # corpus indexes the comment form took
    refused_comments: list[int] = field(default_factory=list)

    def client(self, user_id: int | None = None):
        client = self.app.test_client()
        return sign_in(client, user_id) if user_id else client


class _Queued:
    """A dispatcher that only keeps the job ids: the form upload is looked at while processing."""

    def __init__(self):
        self.job_ids: list[int] = []

    def dispatch(self, job_ids) -> None:
        self.job_ids += list(job_ids)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    from pipeline.accounts import issue_api_token
    from pipeline.migrate import upgrade_database
    from pipeline.settings import ensure_instance, load_settings
    from webapp import create_app
    from pipeline.jobs import InlineDispatcher

    base = tmp_path_factory.mktemp("hostile")
    values = {"INSTANCE_PATH": str(base / "instance"), "BASE_URL": SITE_BASE_URL, "SECRET_KEY": "s",
              "BROKER_URL": f"sqla+sqlite:///{base / 'broker.sqlite'}"}
    upgrade_database(ensure_instance(load_settings(values)).DATABASE_URL)
    app = create_app(values)
    app.config.update(TESTING=True, RATE_LIMITS={"comment": (10_000, 60), "upload": (100, 3600)})
    ctx = app.extensions["clinex"]
    app.extensions["clinex_dispatcher"] = InlineDispatcher(ctx)
    display_name = CORPUS[3] + CORPUS[BIDI_AT]  # accounts made by `clinex users add --name` skip the sign-up form's check
    with ctx.sessions() as session:
        editor, summarizer = make_user(session, "editor"), make_user(session, "summarizer")
        trusted = make_user(session, "listener", name="trusted", trusted=True)
        untrusted = make_user(session, "listener", name="untrusted", trusted=False)
        untrusted.display_name = display_name
        token = issue_api_token(session, summarizer)
        session.commit()
        site = Site(app, ctx, editor=editor.id, summarizer=summarizer.id, trusted=trusted.id,
                    untrusted=untrusted.id, hostile_display_name=display_name)
    site.real_id, site.real_slug = _upload_through_api(site, token)
    _correct_transcript(site)
    _edit_chapters(site)
    _approve(site)
    site.form_upload_id = _upload_through_studio_form(site)
    site.accepted_comments, site.refused_comments = _post_comments(site)
    _add_tags_through_admin_form(site)
    site.row_slugs = _episodes_as_rows(site)
    return site


def _notes() -> str:
    """Front matter naming the whole corpus as speakers and tags; every string in the body, as a
    paragraph (``nNN`` first, to find it), a few as headings and bullets too."""
    front = {"title": CORPUS[2] + " " + CORPUS[-1], "event": {"name": CORPUS[5], "place": CORPUS[13]},
             "speakers": [{"name": s, "role": "speaker"} for s in CORPUS],
             "tags": [s for s in CORPUS if len(shown(s)) <= 100], "date": "2026-05-14"}
    headings = [f"# h{i:02d} {s}" for i, s in enumerate(CORPUS[:6])]
    body = [f"n{i:02d} {s}" for i, s in enumerate(CORPUS)] + [f"- b{i:02d} {s}" for i, s in enumerate(CORPUS[:10])]
    return "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n" + "\n\n".join(headings + body) + "\n"


def _upload_through_api(site: Site, token: str) -> tuple[int, str]:
    hostile_name = "%22'><img src=x onerror=alert(1)>\u202egpj.ogg"  # browsers send a " in a file name as %22
    with open(GOOD / "speech.ogg", "rb") as audio:
        response = site.client().post("/api/episodes", headers={"Authorization": f"Bearer {token}"},
                                      content_type="multipart/form-data",
                                      data={"audio": (audio, hostile_name), "notes": _notes()})
    assert response.status_code == 202, response.get_data(as_text=True)
    episode_id = response.get_json()["id"]
    from pipeline.models import Episode

    with site.ctx.sessions() as session:
        episode = session.get(Episode, episode_id)
        assert episode.status == "in_review", (episode.status, episode.failure_reason)
        assert re.fullmatch(r"[A-Za-z0-9._-]+", episode.media_of("original").filename)
        return episode_id, episode.slug


def _correct_transcript(site: Site) -> None:
    """A summarizer's fix of the first line, through the studio's form (tags are refused there)."""
    from pipeline.models import Episode

    with site.ctx.sessions() as session:
        segment_id = session.get(Episode, site.real_id).transcript.segments[0].id
    client = site.client(site.summarizer)
    path = f"/studio/{site.real_id}/segments/{segment_id}"
    refused = client.post(path, data={"text": CORPUS[0], "csrf_token": csrf_from(client.get(path).get_data(True))})
    assert refused.status_code == 400
    fixed = client.post(path, data={"text": f"{CORPUS[16]} {CORPUS[26]} {CORPUS[33]} {CORPUS[BIDI_AT]}",
                                    "csrf_token": csrf_from(client.get(path).get_data(True))})
    assert fixed.status_code == 302, fixed.get_data(as_text=True)[:500]


def _edit_chapters(site: Site) -> None:
    """The editor's chapter list, through the review form (tags are refused there)."""
    client = site.client(site.editor)
    path = f"/review/{site.real_id}"
    lines = "\n".join(f"0:0{n} k{i:02d} {shown(CORPUS[i])}" for n, i in enumerate(CHAPTER_STRINGS))
    lines += f"\n0:05 k{BIDI_AT} {CORPUS[BIDI_AT]}"  # typed with its bidi controls
    response = client.post(f"{path}/chapters", data={"chapters": lines,
                                                      "csrf_token": csrf_from(client.get(path).get_data(True))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _approve(site: Site) -> None:
    client = site.client(site.editor)
    page = client.get(f"/review/{site.real_id}").get_data(as_text=True)
    response = client.post(f"/review/{site.real_id}/approve", data={"note": CORPUS[-1] + " " + CORPUS[16],
                                                                   "csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    flashed = client.get("/review/")
    assert not live_markup(parse_page(flashed.get_data(as_text=True)))


def _upload_through_studio_form(site: Site) -> int:
    """The studio's form with only a hostile file name: the title comes from it."""
    queued = _Queued()
    site.app.extensions["clinex_dispatcher"] = queued
    client = site.client(site.summarizer)
    token = csrf_from(client.get("/studio/upload").get_data(as_text=True))
    with open(GOOD / "speech.mp3", "rb") as audio:
        response = client.post("/studio/upload", content_type="multipart/form-data", data={
            "csrf_token": token, "audio": (audio, "</title><script>alert(1)</script>\u202e3pm.mp3")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert queued.job_ids
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def _post_comments(site: Site) -> tuple[list[int], list[int]]:
    """Every string as a comment (``cNN`` first, to find it) from a trusted listener, shown at
    once, and from an untrusted one, held for moderation. Returns the corpus indexes the form
    accepted and refused."""
    accepted, refused = [], []
    for user in (site.trusted, site.untrusted):
        client = site.client(user)
        token = csrf_from(client.get(f"/episodes/{site.real_slug}").get_data(as_text=True))
        for i, text in enumerate(CORPUS):
            response = client.post(f"/episodes/{site.real_slug}/comments", data={
                "body": f"c{i:02d} {text}", "timestamp": "", "parent_id": "", "website": "", "csrf_token": token})
            assert response.status_code in (302, 400), (i, response.status_code)
            if response.status_code == 400:
                assert "HTML tags are not allowed" in response.get_data(as_text=True)
            if user == site.trusted:
                (accepted if response.status_code == 302 else refused).append(i)
    return accepted, refused


def _add_tags_through_admin_form(site: Site) -> None:
    """Each string as a tag name and description; the form refuses names with tags in them. The
    bidi string as a glossary term too."""
    client = site.client(site.editor)
    token = csrf_from(client.get("/admin/tags").get_data(as_text=True))
    term = client.post("/admin/glossary", data={"term": CORPUS[BIDI_AT][:120], "category": "term\u202e",
                                                 "mishearings": CORPUS[BIDI_AT], "csrf_token": token})
    assert term.status_code == 302, term.get_data(as_text=True)[:500]
    for i, text in enumerate(CORPUS):
        response = client.post("/admin/tags", data={"name": f"t{i:02d} {shown(text)}"[:100], "category": "topic",
                                                     "description": f"d{i:02d} {text}", "csrf_token": token})
        assert response.status_code in (302, 400), (i, response.status_code)


def _episodes_as_rows(site: Site) -> list[str]:
    """One published episode per string with that title, at an event of that name (described
    with it in Markdown)."""
    from pipeline.models import Event

    slugs = []
    with site.ctx.sessions() as session:
        for i, text in enumerate(CORPUS):
            episode = make_episode(site.ctx, session, title=text)
            episode.event = session.scalars(select(Event).where(Event.name == text)).first() or \
                Event(name=text, slug=f"row-event-{i}", place=text, description=text)
            session.commit()
            slugs.append(episode.slug)
    return slugs


def _slugs(site: Site, model) -> list[str]:
    with site.ctx.sessions() as session:
        return list(session.scalars(select(model.slug)))


def _visit(client, paths, failures: dict, *, ok=(200,)) -> dict[str, object]:
    """GET each path; record a bad status or live markup under the path; return the parsed pages."""
    pages = {}
    for path in paths:
        response = client.get(path)
        if response.status_code not in ok:
            failures[path] = f"status {response.status_code}"
            continue
        if response.mimetype == "text/html":
            pages[path] = parse_page(response.get_data(as_text=True))
            if bad := live_markup(pages[path]):
                failures[path] = bad
    return pages


def _text(page, xpath: str) -> list[str]:
    return [shown(el.text_content()) for el in page.xpath(xpath)]


def test_the_corpus_went_in_through_the_real_paths(site):
    from pipeline.models import Comment, Episode, Tag

    assert len(CORPUS) >= 25
    with site.ctx.sessions() as session:
        episode = session.get(Episode, site.real_id)
        assert episode.status == "published" and episode.media_of("published") is not None
        assert [p.person.name for p in episode.people] == [" ".join(BIDI.sub("", s).split()) for s in CORPUS]
        assert len(episode.accepted_tags) >= 20  # strings with the same slug share a tag
        comments = session.scalars(select(Comment).where(Comment.episode_id == site.real_id)).all()
        tag_names = set(session.scalars(select(Tag.name)))
    for author, state in ((site.trusted, "visible"), (site.untrusted, "pending")):
        for i in range(len(CORPUS)):
            mine = [c for c in comments if c.author_id == author and c.body.startswith(f"c{i:02d} ")]
            assert len(mine) == (i in site.accepted_comments), (author, i)
            assert all(c.state == state for c in mine)
    assert len(site.accepted_comments) >= 12 and len(site.refused_comments) >= 12  # both answers exercised
    assert sum(name.startswith("t") and name[1:3].isdigit() for name in tag_names) >= 12


def test_bidi_controls_are_stored_nowhere_and_shown_nowhere(site):
    """Comments, titles, names, tags, events, notes, chapters, corrections, file names, the
    editor's notes and display names went in with bidi controls: no column and no page kept one."""
    from pipeline.models import USER_WRITTEN

    stored = {}
    with site.ctx.sessions() as session:
        for column in USER_WRITTEN:
            kept = [v for v in session.scalars(select(column)) if v and BIDI.search(json.dumps(v, ensure_ascii=False))]
            if kept:
                stored[str(column)] = kept[:3]
    assert stored == {}
    shown_at = {}
    clients = (site.client(), site.client(site.editor), site.client(site.untrusted))
    paths = ["/", f"/episodes/{site.real_slug}", f"/episodes/{site.real_slug}/chapters.json",
             f"/episodes/{site.real_slug}/transcript.vtt", *(f"/episodes/{slug}" for slug in site.row_slugs),
             *_feed_paths(site), "/search?q=evil", "/review/", f"/review/{site.real_id}", "/moderation/",
             "/admin/users", "/admin/tags", f"/studio/{site.form_upload_id}", f"/studio/{site.form_upload_id}/edit"]
    for client in clients:
        for path in paths:
            response = client.get(path)
            if response.status_code == 200 and BIDI.search(response.get_data(as_text=True)):
                shown_at[path] = BIDI.findall(response.get_data(as_text=True))[:5]
    assert shown_at == {}


def test_public_pages_have_no_live_markup(site):
    from pipeline.models import Event, Person, Tag

    client, failures = site.client(), {}
    paths = ["/", *(f"/episodes/{slug}" for slug in [site.real_slug, *site.row_slugs]),
             *(f"/tags/{slug}" for slug in _slugs(site, Tag)), *(f"/events/{slug}" for slug in _slugs(site, Event)),
             *(f"/speakers/{slug}" for slug in _slugs(site, Person)), "/search?q=alert", "/search?q=script"]
    _visit(client, paths, failures)
    assert failures == {}


def test_hostile_text_shows_as_text(site):
    from pipeline.models import Episode, Event, Person, Tag

    client, failures = site.client(), {}
    page = _visit(client, [f"/episodes/{site.real_slug}"], failures)[f"/episodes/{site.real_slug}"]
    with site.ctx.sessions() as session:
        episode = session.get(Episode, site.real_id)
        title, speakers = episode.title, [p.person.name for p in episode.people]
        tags, chapters = [t.name for t in episode.accepted_tags], [c.title for c in episode.chapters]
        people = {p.slug: p.name for p in session.scalars(select(Person))}
        topics = {t.slug: t.name for t in session.scalars(select(Tag))}
        events = {e.slug: e.name for e in session.scalars(select(Event))}
    assert _text(page, "//article/h1") == [shown(title)]
    meta = " ".join(_text(page, "//p[@class='meta']"))
    assert all(shown(name) in meta for name in speakers)
    assert sorted(_text(page, "//p[@class='tags']/a")) == sorted(shown(t) for t in tags)
    assert chapters and all(shown(c) in " ".join(_text(page, "//ol[@class='chapters']/li")) for c in chapters)
    # names went in with right-to-left overrides and isolates; they come out without them
    assert sum(bool(BIDI.search(s)) for s in CORPUS) >= 3 and not BIDI.search(etree.tostring(page, encoding=str))
    summary = " ".join(_text(page, "//section[@id='summary']"))
    assert all(f"n{i:02d}" in summary for i in range(len(CORPUS)))
    assert "<script>alert(1)</script>" in summary  # escaped by Markdown, so shown, not dropped
    discussion = " ".join(_text(page, "//section[@id='discussion']"))
    assert all(f"c{i:02d}" in discussion for i in site.accepted_comments)
    for slug, text in zip(site.row_slugs, CORPUS):
        page = _visit(client, [f"/episodes/{slug}"], failures)[f"/episodes/{slug}"]
        assert _text(page, "//article/h1") == [shown(text)]
    for prefix, names in (("speakers", people), ("tags", topics), ("events", events)):
        for slug, name in names.items():
            heading = _text(_visit(client, [f"/{prefix}/{slug}"], failures)[f"/{prefix}/{slug}"], "//h1")
            assert heading == [shown(name)], (prefix, slug)
    home = _visit(client, ["/"], failures)["/"]
    cards = " ".join(_text(home, "//p[@class='oneline']"))
    # one-line summaries (the plain text of the notes' first paragraph) escaped once, not twice
    assert "n00 <script>alert(1)</script>" in cards, cards[:300]
    assert failures == {}


def test_signed_in_pages_have_no_live_markup(site):
    from pipeline.models import Episode, Tag

    with site.ctx.sessions() as session:
        episode_ids = list(session.scalars(select(Episode.id)))
        tag_ids = list(session.scalars(select(Tag.id)))
    failures = {}
    editor = _visit(site.client(site.editor), [
        "/review/", *(f"/review/{i}" for i in episode_ids), "/studio/", f"/studio/{site.real_id}",
        f"/studio/{site.real_id}/transcript", f"/studio/{site.form_upload_id}",
        f"/studio/{site.form_upload_id}/edit", "/moderation/", "/admin/tags",
        *(f"/admin/tags/{i}" for i in tag_ids), "/admin/users", "/stats/downloads", "/account"], failures)
    listener = _visit(site.client(site.untrusted), [f"/episodes/{site.real_slug}", "/account"], failures)
    _visit(site.client(site.summarizer), ["/studio/", f"/studio/{site.form_upload_id}"], failures)
    assert failures == {}
    moderation = " ".join(_text(editor["/moderation/"], "//main"))
    assert all(f"c{i:02d}" in moderation for i in site.accepted_comments)
    assert shown(site.hostile_display_name) in moderation
    assert shown(site.hostile_display_name) in " ".join(_text(editor["/admin/users"], "//main"))
    own_pending = " ".join(_text(listener[f"/episodes/{site.real_slug}"], "//section[@id='discussion']"))
    assert "waiting for moderation" in own_pending and all(f"c{i:02d}" in own_pending for i in site.accepted_comments)


def test_status_json_and_notes_preview(site):
    client = site.client(site.summarizer)
    status = client.get(f"/studio/{site.form_upload_id}/status.json")
    assert status.status_code == 200 and status.is_json
    token = csrf_from(client.get("/studio/upload").get_data(as_text=True))
    previewed = 0
    for text in CORPUS:
        response = client.post("/studio/preview", data={"notes": text, "csrf_token": token})
        assert response.status_code in (200, 400) and response.is_json
        if response.status_code == 200:
            previewed += 1
            assert live_markup(parse_fragment(response.get_json()["html"]), own_scripts=False) == [], text
    assert previewed >= 12


def test_search_and_echoed_queries(site):
    client, failures = site.client(), {}
    hits = _visit(client, ["/search?q=alert"], failures)["/search?q=alert"]
    # grouped per episode: every episode whose title, notes or transcript says it is one result
    assert len(hits.xpath("//li[contains(@class, 'result')]")) >= sum("alert" in text for text in CORPUS)
    for text in CORPUS:
        for path in ("/search", f"/episodes/{site.real_slug}", "/login"):
            response = client.get(path, query_string={"q": text, "next": text})
            assert response.status_code == 200, (path, text)
            page = parse_page(response.get_data(as_text=True))
            if bad := live_markup(page):
                failures[f"{path}?q={text!r}"] = bad
            if path == "/search":
                assert [shown(v) for v in page.xpath("//input[@id='q']/@value")] == [shown(text)]
    assert failures == {}


def _feed_paths(site: Site) -> list[str]:
    from pipeline.models import Event, Tag

    return ["/feed.xml", *(f"/tags/{s}/feed.xml" for s in _slugs(site, Tag)),
            *(f"/events/{s}/feed.xml" for s in _slugs(site, Event))]


def test_feeds_are_well_formed_and_their_html_is_inert(site):
    from pipeline.models import Episode

    client, failures, items = site.client(), {}, 0
    for path in _feed_paths(site):
        response = client.get(path)
        assert response.status_code == 200, path
        root = etree.fromstring(response.get_data())  # raises on anything not well-formed
        for item in root.iter("item"):
            items += 1
            for part in item.xpath("description | *[local-name()='encoded']"):
                if bad := live_markup(parse_fragment(part.text), own_scripts=False):
                    failures[f"{path} {item.findtext('guid')} {part.tag}"] = bad
    assert items > len(CORPUS) and failures == {}
    with site.ctx.sessions() as session:
        episode = session.get(Episode, site.real_id)
        guid, title, names = episode.guid, episode.title, [p.person.name for p in episode.people]
    item = etree.fromstring(client.get("/feed.xml").get_data()).xpath(f"//item[guid='{guid}']")[0]
    assert item.findtext("title") == title
    people = item.xpath("*[local-name()='person']/text()")
    assert [shown(p) for p in people] == [shown(n)[:128].strip() for n in names]


def test_chapters_and_transcript_files_are_data_not_pages(site):
    client = site.client()
    chapters = client.get(f"/episodes/{site.real_slug}/chapters.json")
    assert chapters.status_code == 200 and chapters.mimetype == "application/json+chapters"
    assert chapters.headers["X-Content-Type-Options"] == "nosniff"
    titles = [c["title"] for c in json.loads(chapters.get_data())["chapters"]]
    assert titles == [f"k{i:02d} {shown(CORPUS[i])}" for i in (*CHAPTER_STRINGS, BIDI_AT)]  # as text, exactly
    transcript = client.get(f"/episodes/{site.real_slug}/transcript.json")
    assert transcript.status_code == 200 and transcript.mimetype == "application/json"
    first = json.loads(transcript.get_data())["segments"][0]["body"]
    assert CORPUS[16] in first
    for ext, mimetype in (("vtt", "text/vtt"), ("srt", "application/x-subrip"), ("txt", "text/plain")):
        response = client.get(f"/episodes/{site.real_slug}/transcript.{ext}")
        assert response.status_code == 200 and response.mimetype != "text/html", ext
        assert CORPUS[16] in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "/\\/evil.example", "/\t/evil.example",
                                    "/\n/evil.example", "https://evil.example/", "javascript:alert(1)", " //evil"])
def test_sign_in_never_sends_people_off_the_site(site, target):
    from webapp.auth import next_url

    with site.app.test_request_context("/login", query_string={"next": target}):
        assert next_url("/") == "/"
    with site.app.test_request_context("/login", query_string={"next": "/episodes/x?t=3#player"}):
        assert next_url("/") == "/episodes/x?t=3#player"
