// The class page: copy the join code; upload a file to the class's own syllabus with a progress bar fed by
// the import job's real progress (polled over the REST API); search the syllabus. Without JavaScript the
// forms post to the server and the page lists the uploads with their state.
(function () {
  "use strict";

  const button = document.getElementById("copy-code");
  const copyStatus = document.getElementById("copy-status");
  if (button && navigator.clipboard) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.code).then(
        function () { copyStatus.textContent = "Copied."; },
        function () { copyStatus.textContent = "Could not copy: select the code instead."; }
      );
    });
  }

  function csrfToken(form) {
    const field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function errorText(body, fallback) {
    const error = body && body.error;
    if (!error) return fallback;
    const details = error.details && error.details.file;
    return (details && details[0]) || error.message || fallback;
  }

  // --- upload with progress ---------------------------------------------------------------------
  const uploadForm = document.getElementById("upload-form");
  const live = document.getElementById("upload-live");
  const bar = document.getElementById("upload-progress");
  const percent = document.getElementById("upload-percent");
  const label = document.getElementById("upload-label");
  const status = document.getElementById("upload-status");
  const POLL_MS = 400;

  function show(job) {
    bar.value = job.percent;
    bar.textContent = job.percent + " %";
    percent.textContent = job.percent + " %";
    if (job.status === "succeeded") {
      const r = job.result || {};
      status.textContent = job.filename + " imported: " + r.topics + " section" + (r.topics === 1 ? "" : "s") +
        ", " + r.chunks_indexed + " passage" + (r.chunks_indexed === 1 ? "" : "s") + ". The tutor can answer from it now.";
    } else if (job.status === "failed") {
      status.textContent = "The import failed: " + job.error;
    } else if (job.total) {
      status.textContent = "Indexing " + job.filename + ": " + job.done + " of " + job.total + " passages.";
    } else {
      status.textContent = "Reading " + job.filename + "…";
    }
  }

  function poll(url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json().then(function (body) { return [response, body]; }); })
      .then(function (pair) {
        const response = pair[0], job = pair[1];
        if (!response.ok) { status.textContent = errorText(job, "Could not read the import's progress."); return; }
        show(job);
        if (job.status === "pending" || job.status === "running") {
          window.setTimeout(function () { poll(url); }, POLL_MS);
        } else {
          uploadForm.querySelector("button[type=submit]").disabled = false;
        }
      })
      .catch(function () {
        window.setTimeout(function () { poll(url); }, POLL_MS * 5);  // the server restarting: keep trying
      });
  }

  if (uploadForm && window.fetch && window.FormData) {
    uploadForm.addEventListener("submit", function (event) {
      event.preventDefault();
      const input = uploadForm.querySelector("input[type=file]");
      if (!input.files.length) { input.focus(); return; }
      const file = input.files[0];
      const submit = uploadForm.querySelector("button[type=submit]");
      submit.disabled = true;
      live.hidden = false;
      label.textContent = "Import of " + file.name;
      show({ percent: 0, status: "pending", filename: file.name, total: 0 });
      const data = new FormData();
      data.append("file", file);
      fetch(uploadForm.dataset.api, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(uploadForm), Accept: "application/json" },
      })
        .then(function (response) { return response.json().then(function (body) { return [response, body]; }); })
        .then(function (pair) {
          const response = pair[0], job = pair[1];
          if (!response.ok) {
            status.textContent = errorText(job, "The upload was refused.");
            submit.disabled = false;
            return;
          }
          show(job);
          poll(uploadForm.dataset.api + job.job_id + "/");
        })
        .catch(function () {
          status.textContent = "The upload did not reach the server; try again.";
          submit.disabled = false;
        });
    });
  }

  // --- search the syllabus ----------------------------------------------------------------------
  const searchForm = document.getElementById("search-form");
  const results = document.getElementById("search-results");
  if (searchForm && window.fetch) {
    searchForm.hidden = false;
    searchForm.addEventListener("submit", function (event) {
      event.preventDefault();
      const q = document.getElementById("search-q").value.trim();
      if (!q) return;
      const url = searchForm.dataset.api + "?k=3&q=" + encodeURIComponent(q);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json().then(function (body) { return [response, body]; }); })
        .then(function (pair) {
          results.textContent = "";
          if (!pair[0].ok) { results.textContent = errorText(pair[1], "The search failed."); return; }
          if (!pair[1].length) {
            const none = document.createElement("li");
            none.textContent = "Nothing in this syllabus matches.";
            results.appendChild(none);
            return;
          }
          pair[1].forEach(function (hit) {
            const item = document.createElement("li");
            const title = document.createElement("strong");
            title.textContent = hit.label;
            const text = document.createElement("p");
            text.className = "small";
            text.textContent = hit.text;
            item.appendChild(title);
            item.appendChild(text);
            results.appendChild(item);
          });
        });
    });
  }
})();
