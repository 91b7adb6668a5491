// Live service-level countdowns: every <time class="countdown" datetime="..."> on the page says
// "due in 1h 12m" or "overdue by 5m", counted in the desk's time (the page's desk-now meta tells
// what "now" was when the page was made, so a wrong laptop clock does not move the deadlines).
(() => {
  "use strict";

  const nowMeta = document.querySelector('meta[name="desk-now"]');
  const deskNow = nowMeta ? Date.parse(nowMeta.getAttribute("content")) : NaN;
  const skew = Number.isNaN(deskNow) ? 0 : deskNow - Date.now();

  function spanWords(ms) {
    const total = Math.floor(Math.abs(ms) / 1000);
    const days = Math.floor(total / 86400);
    const hours = Math.floor((total % 86400) / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    if (days) return `${days}d ${hours}h`;
    if (hours) return `${hours}h ${minutes}m`;
    if (minutes) return `${minutes}m`;
    return `${total % 60}s`;
  }

  function tick() {
    const now = Date.now() + skew;
    for (const el of document.querySelectorAll("time.countdown")) {
      const due = Date.parse(el.getAttribute("datetime"));
      if (Number.isNaN(due)) continue;
      const left = due - now;
      const words = left > 0 ? `due in ${spanWords(left)}` : `overdue by ${spanWords(left)}`;
      if (el.textContent !== words) el.textContent = words;
      const clock = el.closest(".clock");
      if (left <= 0 && clock && !clock.classList.contains("breached")) {
        clock.classList.add("breached");
        const state = clock.querySelector(".clock-state");
        if (state) {
          state.textContent = "breached";
          state.classList.add("bad");
        }
      }
    }
  }

  if (document.querySelector("time.countdown")) {
    tick();
    window.setInterval(tick, 1000);
  }
})();
