// Studio: big files go up in slices with a progress bar (resuming after a dropped connection),
// notes can be previewed, and processing progress updates without reloading.
(function () {
  "use strict";
  const CHUNK = 8 * 1024 * 1024;
  const csrf = () => (document.querySelector("input[name=csrf_token]") || {}).value || "";

  async function json(url, options) {
    const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
    const body = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body };
  }

  async function sendSlices(file, upload, bar, label) {
    let offset = upload.received || 0, failures = 0;
    while (offset < file.size) {
      const slice = file.slice(offset, Math.min(offset + CHUNK, file.size));
      let result;
      try {
        result = await json(upload.url + "?offset=" + offset, {
          method: "POST", body: slice,
          headers: { "X-CSRFToken": csrf(), "Content-Type": "application/octet-stream" },
        });
      } catch (err) {
        result = { ok: false, status: 0, body: {} };
      }
      if (result.ok) { offset = result.body.received; failures = 0; }
      else if (result.status === 409 && typeof result.body.received === "number") offset = result.body.received;
      else if (++failures > 5) throw new Error(result.body.message || "The upload keeps failing; check your connection.");
      else await new Promise((r) => setTimeout(r, 1000 * failures));
      bar.value = Math.round((offset / file.size) * 100);
      label.textContent = Math.round((offset / file.size) * 100) + "% of " + (file.size / 1048576).toFixed(1) + " MB";
    }
  }

  const form = document.getElementById("upload-form");
  if (form) {
    const input = form.querySelector("input[type=file]");
    const box = document.getElementById("upload-progress");
    form.addEventListener("submit", async (event) => {
      const file = input.files[0];
      if (!file || form.dataset.sent) return;  // no file: the server says what is missing
      event.preventDefault();
      box.hidden = false;
      const bar = box.querySelector("progress"), label = box.querySelector(".label");
      const started = await json(form.dataset.startUrl, {
        method: "POST", headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json" },
        body: JSON.stringify({ filename: file.name, size: file.size }),
      });
      if (!started.ok) { label.textContent = started.body.message || "The upload could not start."; return; }
      const upload = Object.assign(started.body, { url: form.dataset.startUrl + "/" + started.body.id });
      try {
        await sendSlices(file, upload, bar, label);
      } catch (err) { label.textContent = err.message; return; }
      label.textContent = "Uploaded; checking the recording…";
      document.getElementById("upload_id").value = upload.id;
      input.disabled = true;  // the file is already on the server
      form.dataset.sent = "1";
      form.submit();
    });
  }

  const preview = document.getElementById("preview");
  const previewButton = document.getElementById("preview-button");
  if (previewButton && preview) {
    previewButton.hidden = false;
    previewButton.addEventListener("click", async () => {
      const data = new FormData();
      data.append("csrf_token", csrf());
      data.append("notes", document.getElementById("notes").value);
      const result = await json(previewButton.form.dataset.previewUrl, { method: "POST", body: data });
      preview.hidden = false;
      preview.innerHTML = result.ok ? result.body.html : "";  // sanitized by the server (nh3)
      if (!result.ok) preview.textContent = result.body.message || "Preview failed.";
    });
  }

  const status = document.getElementById("job-status");
  if (status && ["draft", "processing"].includes(status.dataset.state)) {
    const poll = async () => {
      const result = await json(status.dataset.statusUrl).catch(() => null);
      if (result && result.ok) {
        const data = result.body;
        if (data.status !== status.dataset.state) { location.reload(); return; }
        const overall = document.getElementById("overall");
        if (overall) overall.value = data.progress;
        data.jobs.forEach((job) => {
          const row = status.querySelector('li[data-kind="' + job.kind + '"]');
          if (!row) { location.reload(); return; }
          row.querySelector("progress").value = job.state === "succeeded" ? 1 : job.progress;
          row.querySelector(".job-state").textContent = job.state;
        });
      }
      setTimeout(poll, 1500);
    };
    setTimeout(poll, 1500);
  }
})();
