// The class page: a button that copies the join code (shown only where the clipboard is available).
(function () {
  "use strict";
  const button = document.getElementById("copy-code");
  const status = document.getElementById("copy-status");
  if (!button || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(button.dataset.code).then(
      function () { status.textContent = "Copied."; },
      function () { status.textContent = "Could not copy: select the code instead."; }
    );
  });
})();
