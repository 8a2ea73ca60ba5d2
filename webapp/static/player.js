// The player that stays at the bottom of every page: play/pause, -15/+30 s, speed remembered in
// this browser, the place in each episode resumed (on the server when signed in, else here),
// chapter shown, lock-screen controls (Media Session), keyboard shortcuts and comment marks on
// the timeline. Without JavaScript the browser's own audio controls remain.
(function () {
  "use strict";
  const dock = document.getElementById("dock");
  const audio = dock && dock.querySelector("audio");  // pages like review have their own #player
  if (!audio) return;
  const store = window.localStorage;
  const RATES = [0.75, 1, 1.25, 1.5, 1.75, 2];
  const SAVE_EVERY = 15000; // ms between reports to the server while playing
  const $ = (id) => document.getElementById(id);
  const ui = { play: $("dock-play"), back: $("dock-back"), fwd: $("dock-fwd"), seek: $("dock-seek"),
               time: $("dock-time"), rate: $("dock-rate"), chapter: $("dock-chapter"), marks: $("dock-marks"),
               title: $("dock-title") };

  function read(key) { try { return JSON.parse(store.getItem(key)); } catch (e) { return null; } }
  function write(key, value) { try { store.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ } }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
  }

  // On pages other than an episode's, offer the last episode this browser played (and the
  // play buttons on episode cards load theirs).
  let ep = dock.dataset.slug ? Object.assign({}, dock.dataset) : read("clinex:now");
  const cards = Array.from(document.querySelectorAll("[data-play-card]"));
  if ((!ep || !ep.slug) && !cards.length) return;
  let chapters = [], posKey = "";
  function showDock() {
    audio.controls = false;
    dock.querySelector(".dock-ui").hidden = false;
    dock.hidden = false;
    document.documentElement.classList.add("has-dock");
  }
  function offer(other, autoplay) {
    if (ep && posKey && !audio.paused) {  // what was heard of the episode playing until now is its own
      write(posKey, { t: audio.currentTime, at: Date.now() });
      report(false);
    }
    ep = other;
    last = null;
    chapters = [];
    posKey = "clinex:pos:" + ep.slug;
    audio.preload = autoplay ? "auto" : "none";
    audio.src = ep.src;
    ui.title.textContent = ep.title;
    ui.title.href = ep.url;
    showDock();
    const saved = read(posKey);
    if (saved && saved.t) audio.addEventListener("loadedmetadata", () => { audio.currentTime = saved.t; }, { once: true });
    if (autoplay) audio.play().catch(() => {});
    describe();
  }
  cards.forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      if (ep && ep.slug === button.dataset.slug && audio.src) { toggle(); return; }
      offer(Object.assign({}, button.dataset), true);
    });
  });

  // ---- where to start: ?t= / #t= in the address, else the saved place
  function addressTime() {
    const m = location.hash.match(/^#t=(\d+(?:\.\d+)?)$/) || location.search.match(/[?&]t=(\d+(?:\.\d+)?)/);
    return m ? parseFloat(m[1]) : null;
  }
  function savedTime() {
    if (ep.resume !== undefined) return parseFloat(ep.resume);
    const local = read(posKey);
    return local && typeof local.t === "number" ? local.t : null;
  }
  const onEpisodePage = Boolean(dock.dataset.slug);
  if (onEpisodePage) {
    ep.src = audio.currentSrc || audio.getAttribute("src").split("#")[0];
    chapters = ep.chapters ? JSON.parse(ep.chapters) : [];
    posKey = "clinex:pos:" + ep.slug;
    showDock();
  }
  const startAt = onEpisodePage ? (addressTime() ?? savedTime()) : null;
  if (startAt) {
    const go = () => { if (audio.currentTime < 0.5) audio.currentTime = startAt; };
    if (audio.readyState >= 1) go(); else audio.addEventListener("loadedmetadata", go, { once: true });
    if (audio.preload === "none") audio.preload = "metadata";
  }

  // ---- speed, remembered for every episode in this browser
  const savedRate = parseFloat(read("clinex:rate"));
  const setRate = (r) => { audio.playbackRate = r; audio.defaultPlaybackRate = r; ui.rate.value = String(r); };
  setRate(RATES.includes(savedRate) ? savedRate : 1);
  ui.rate.addEventListener("change", () => { setRate(parseFloat(ui.rate.value)); write("clinex:rate", audio.playbackRate); });
  audio.addEventListener("loadedmetadata", () => { audio.playbackRate = parseFloat(ui.rate.value); });

  // ---- buttons
  function skip(by) {
    const end = audio.duration || parseFloat(ep && ep.duration) || Infinity;
    audio.currentTime = Math.min(Math.max(0, audio.currentTime + by), end);
  }
  function toggle() { if (audio.paused) audio.play().catch(() => {}); else audio.pause(); }
  ui.play.addEventListener("click", toggle);
  ui.back.addEventListener("click", () => skip(-15));
  ui.fwd.addEventListener("click", () => skip(30));
  ui.seek.addEventListener("input", () => { audio.currentTime = parseFloat(ui.seek.value); });
  document.querySelectorAll("[data-play-episode]").forEach((b) => { b.hidden = false; b.addEventListener("click", toggle); });

  function showState() {
    const playing = !audio.paused;
    ui.play.textContent = playing ? "❚❚" : "▶";
    ui.play.setAttribute("aria-label", playing ? "Pause" : "Play");
    document.querySelectorAll("[data-play-episode]").forEach((b) => { b.textContent = playing ? "Pause" : "Play episode"; });
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = playing ? "playing" : "paused";
  }
  audio.addEventListener("play", () => { showState(); write("clinex:now", nowPlaying()); });
  audio.addEventListener("pause", showState);

  function chapterAt(t) {
    let found = -1;
    chapters.forEach((c, i) => { if (c.start <= t) found = i; });
    return found;
  }
  function showTime() {
    const t = audio.currentTime, d = audio.duration || parseFloat(ep && ep.duration) || 0;
    if (d && parseFloat(ui.seek.max) !== Math.floor(d)) ui.seek.max = String(Math.floor(d));
    ui.seek.value = String(Math.floor(t));
    ui.seek.setAttribute("aria-valuetext", clock(t) + " of " + clock(d));
    ui.time.textContent = clock(t) + " / " + clock(d);
    const c = chapterAt(t);
    ui.chapter.textContent = c >= 0 ? chapters[c].title : "";
  }
  audio.addEventListener("timeupdate", showTime);
  audio.addEventListener("durationchange", () => { showTime(); drawMarks(); });

  // ---- comment marks on the timeline (from the timestamped comments on the page)
  function drawMarks() {
    const d = audio.duration || parseFloat(ep && ep.duration) || 0;
    ui.marks.textContent = "";
    if (!d) return;
    document.querySelectorAll("a.stamp[data-t]").forEach((a) => {
      const mark = document.createElement("span");
      mark.className = "dock-mark";
      mark.style.left = (100 * Math.min(1, parseFloat(a.dataset.t) / d)) + "%";
      ui.marks.appendChild(mark);
    });
  }
  drawMarks();

  // ---- heard time: only audio that actually played (seeks and skips count nothing)
  let heard = 0, last = null;
  audio.addEventListener("seeking", () => { last = null; });
  audio.addEventListener("timeupdate", () => {
    const t = audio.currentTime;
    if (!audio.paused && !audio.seeking && last !== null) {
      const step = t - last;
      if (step > 0 && step < 2 * Math.max(1, audio.playbackRate)) heard += step;
    }
    last = audio.paused ? null : t;
  });
  audio.addEventListener("pause", () => { last = null; });

  // ---- saving the place: here always, on the server when signed in
  function nowPlaying() {
    return { slug: ep.slug, title: ep.title, url: ep.url, src: ep.src, art: ep.art, duration: ep.duration, show: ep.show,
             listenUrl: ep.listenUrl };
  }
  // The place is kept here and, when the address carries a #t= (left by a seek), there too: a
  // reload follows the address, and a hash set only at pause could lose the race with the reload.
  function remember() {
    write(posKey, { t: audio.currentTime, at: Date.now() });
    if (dock.dataset.slug && /^#t=/.test(location.hash)) history.replaceState(null, "", "#t=" + Math.floor(audio.currentTime));
  }
  let lastLocal = 0;
  audio.addEventListener("timeupdate", () => {
    if (Date.now() - lastLocal < 2000) return;
    lastLocal = Date.now();
    remember();
  });
  const token = document.querySelector('meta[name="csrf-token"]');
  function report(leaving) {
    if (!ep || !ep.listenUrl || !token) return;
    const body = JSON.stringify({ position: audio.currentTime, heard: heard });
    heard = 0;
    fetch(ep.listenUrl, { method: "POST", keepalive: leaving, credentials: "same-origin", body: body,
                          headers: { "Content-Type": "application/json", "Accept": "application/json",
                                     "X-CSRFToken": token.content } }).catch(() => {});
  }
  setInterval(() => { if (!audio.paused) report(false); }, SAVE_EVERY);
  audio.addEventListener("pause", () => {
    if (audio.readyState === 0) return; // a new episode is loading: there is no place to save yet
    remember(); report(false);
  });
  audio.addEventListener("seeked", remember);
  window.addEventListener("pagehide", () => {
    if (!ep || !posKey || audio.readyState === 0) return;
    remember(); report(true); });

  // ---- lock screen and headset controls
  function describe() {
    if (!("mediaSession" in navigator && window.MediaMetadata) || !ep) return;
    const art = ep.art ? [{ src: ep.art, sizes: "640x640", type: "image/jpeg" }] : [];
    navigator.mediaSession.metadata = new MediaMetadata({ title: ep.title, artist: ep.show || "", album: ep.event || "", artwork: art });
  }
  if ("mediaSession" in navigator && window.MediaMetadata) {
    const handlers = {
      play: () => audio.play(), pause: () => audio.pause(),
      seekbackward: (d) => skip(-(d.seekOffset || 15)), seekforward: (d) => skip(d.seekOffset || 30),
      seekto: (d) => { audio.currentTime = d.seekTime; },
      previoustrack: () => { const c = chapterAt(audio.currentTime - 3); audio.currentTime = c >= 0 ? chapters[c].start : 0; },
      nexttrack: () => { const c = chapterAt(audio.currentTime) + 1; if (c < chapters.length) audio.currentTime = chapters[c].start; },
    };
    Object.keys(handlers).forEach((name) => {
      if (!chapters.length && (name === "previoustrack" || name === "nexttrack")) return;
      try { navigator.mediaSession.setActionHandler(name, handlers[name]); } catch (e) { /* not supported here */ }
    });
  }
  if (onEpisodePage) describe();
  else if (ep && ep.slug) offer(ep, false);

  // ---- keyboard: k or space play/pause, j back 15 s, l forward 30 s, < and > speed
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) return; // typing, not commands
    if (event.key === " " && target.closest("button, a, summary")) return; // space presses those
    const actions = {
      " ": toggle, k: toggle, j: () => skip(-15), l: () => skip(30), ArrowLeft: () => skip(-15), ArrowRight: () => skip(30),
      ">": () => nextRate(1), "<": () => nextRate(-1),
    };
    const act = actions[event.key];
    if (!act) return;
    event.preventDefault();
    act();
  });
  function nextRate(step) {
    const i = RATES.indexOf(audio.playbackRate);
    const r = RATES[Math.min(RATES.length - 1, Math.max(0, (i < 0 ? 1 : i) + step))];
    setRate(r);
    write("clinex:rate", r);
  }
  // ---- share a moment: a link that opens the episode page at the current time
  const share = $("share-moment");
  if (share && dock.dataset.slug) {
    share.hidden = false;
    share.addEventListener("click", () => {
      const t = Math.floor(audio.currentTime);
      const link = location.origin + ep.url + (t > 0 ? "?t=" + t : "");
      const done = (text) => { $("share-status").textContent = text; };
      const fallback = () => {
        $("share-fallback").hidden = false;
        $("share-link").value = link;
        $("share-link").select();
        done("Copy the link below.");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(link).then(() => done("Link to " + clock(t) + " copied."), fallback);
      } else fallback();
    });
  }
  showState();
  showTime();
})();
