// Episode pages: seek the player from chapter, transcript and comment links (and #t=N in the
// address), highlight the segment being heard, filter the transcript as you type, and fill a
// comment's moment from the player. Everything here is an improvement; the page works without it.
(function () {
  "use strict";
  const player = document.getElementById("player");
  const list = document.getElementById("transcript");
  const rows = list ? Array.from(list.querySelectorAll("li[data-start]")) : [];
  const starts = rows.map((r) => parseFloat(r.dataset.start));

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }

  function seek(seconds, play) {
    if (!player || isNaN(seconds)) return;
    const go = () => {
      player.currentTime = seconds;
      if (play) player.play().catch(() => {});
    };
    if (player.readyState >= 1) go();
    else {
      player.addEventListener("loadedmetadata", go, { once: true });
      if (player.preload === "none") player.preload = "metadata";
      player.load();
    }
  }

  function hashTime() {
    const match = location.hash.match(/^#t=(\d+(?:\.\d+)?)$/);
    return match ? parseFloat(match[1]) : null;
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.seek");
    if (!link || !player) return;
    event.preventDefault();
    const t = parseFloat(link.dataset.t);
    seek(t, true);
    // the player is fixed on screen, so the page stays where the reader is
    history.replaceState(null, "", "#t=" + t.toFixed(1));
  });

  window.addEventListener("hashchange", () => {
    const t = hashTime();
    if (t !== null) seek(t, true);
  });
  const initial = hashTime();
  if (initial !== null) seek(initial, false);

  // binary search: a two-hour transcript has ~1500 rows and timeupdate fires 4 times a second
  function rowAt(t) {
    let lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found >= 0 && t < parseFloat(rows[found].dataset.end) + 0.5 ? rows[found] : null;
  }

  let current = null;
  if (player && rows.length) {
    player.addEventListener("timeupdate", () => {
      const row = rowAt(player.currentTime);
      if (row === current) return;
      if (current) current.classList.remove("current");
      if (row) row.classList.add("current");
      current = row;
    });
  }

  // A #t= moment (a search hit, a shared link) shows the line that holds it. The address keeps
  // one decimal, so allow for its rounding: the line starting at 92.42 s holds #t=92.4.
  function showLine(t) {
    const row = rowAt(t + 0.06);
    if (!row) return;
    if (current) current.classList.remove("current");
    row.classList.add("current");
    current = row;
    row.scrollIntoView({ block: "center" });
  }
  if (initial !== null) showLine(initial);
  window.addEventListener("hashchange", () => {
    const t = hashTime();
    if (t !== null) showLine(t);
  });

  const box = document.getElementById("tq");
  const count = document.getElementById("tq-count");
  if (box && list) {
    const texts = rows.map((r) => r.textContent.toLowerCase());
    const filter = () => {
      const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
      let n = 0;
      rows.forEach((row, i) => {
        const hit = words.length > 0 && words.every((w) => texts[i].includes(w));
        row.classList.toggle("match", hit);
        if (hit) n += 1;
      });
      list.classList.toggle("filtering", words.length > 0);
      if (count) count.textContent = words.length ? n + " line" + (n === 1 ? "" : "s") : "";
    };
    box.addEventListener("input", filter);
    box.form.addEventListener("submit", (event) => { event.preventDefault(); filter(); });
    if (box.value) filter();
  }

  document.querySelectorAll("button.use-time").forEach((button) => {
    if (!player) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      const input = button.parentElement.querySelector(".ts-input");
      if (input) input.value = clock(player.currentTime);
    });
  });
})();
