// The queue page: tick every case at once, and say how many are ticked.
(() => {
  "use strict";
  const form = document.getElementById("bulk");
  if (!form) return;
  const all = document.getElementById("tick-all");
  const boxes = () => Array.from(form.querySelectorAll('input[name="case"]'));
  const said = document.getElementById("ticked");

  function update() {
    const n = boxes().filter((b) => b.checked).length;
    said.textContent = n ? `${n} ticked` : "";
    if (all) all.checked = n > 0 && n === boxes().length;
  }

  if (all) {
    all.hidden = false;
    all.addEventListener("change", () => {
      for (const b of boxes()) b.checked = all.checked;
      update();
    });
  }
  form.addEventListener("change", update);
})();
