// Seek the player from chapter, transcript and comment links; highlight the current segment.
(function () {
  const player = document.getElementById("player");
  if (!player) return;
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a.seek");
    if (!link) return;
    event.preventDefault();
    player.currentTime = parseFloat(link.dataset.t);
    player.play().catch(() => {});
    history.replaceState(null, "", "#t=" + Math.floor(player.currentTime));
  });
  const rows = Array.from(document.querySelectorAll("#transcript li"));
  let current = null;
  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    const row = rows.find((r) => t >= parseFloat(r.dataset.start) && t < parseFloat(r.dataset.end));
    if (row && row !== current) {
      if (current) current.classList.remove("current");
      row.classList.add("current");
      current = row;
    }
  });
  const match = location.hash.match(/^#t=(\d+)$/);
  if (match) player.addEventListener("loadedmetadata", () => { player.currentTime = +match[1]; }, { once: true });
})();
