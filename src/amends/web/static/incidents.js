// Copy buttons for the drafted statements on an incident page. The buttons stay hidden until
// this script runs, so a page without scripts shows no button that does nothing.
(function () {
  "use strict";

  function copyText(area) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(area.value);
    }
    // Plain http on another host: the clipboard API is not offered, select and copy instead.
    area.focus();
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var area = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentElement.querySelector(".copied");
    if (!area) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(area).then(
        function () {
          if (status) {
            status.textContent = "Copied.";
          }
        },
        function () {
          area.focus();
          area.select();
          if (status) {
            status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
          }
        }
      );
    });
  });
})();
