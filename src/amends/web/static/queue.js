// The queue page: the filters folded away on a phone until asked for; tick every case at
// once, and say how many are ticked.
(() => {
  "use strict";
  const box = document.getElementById("filter-box");
  if (box && box.hasAttribute("data-fold-narrow") && window.matchMedia("(max-width: 640px)").matches) {
    box.open = false;
  }
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
