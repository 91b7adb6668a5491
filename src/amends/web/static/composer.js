// The case page's composer: the live reply checker.
//
// The composer works without this file: the forms post the reply and the server checks it. With
// it, each textarea is checked as the agent writes (300 ms after the last key), the findings are
// listed, and their spans are marked in a backdrop behind the transparent textarea. The backdrop
// is rebuilt from text nodes and <mark> elements only: the reply is never parsed as HTML.
(() => {
  "use strict";

  const dataEl = document.getElementById("composer-data");
  if (!dataEl) return;
  const config = JSON.parse(dataEl.textContent);
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  // ---- the composer ----------------------------------------------------------------------------

  const DEBOUNCE_MS = 300;
  const ORDER = { block: 0, warn: 1, info: 2 };
  const SEVERITY_WORDS = { block: "Blocks sending", warn: "Warning", info: "Note" };

  // The checker counts in code points (Python); the browser's strings count UTF-16 units.
  function unitIndex(text) {
    const map = [0];
    let units = 0;
    for (const ch of text) {
      units += ch.length;
      map.push(units);
    }
    return (points) => map[Math.max(0, Math.min(points, map.length - 1))];
  }

  function codePoints(text) {
    let n = 0;
    for (const _ of text) n += 1;
    return n;
  }

  // Spans that survive an edit: those before it stay, those after it move with the text, and
  // those it touched go until the checker answers again.
  function shiftSpans(before, after, spans) {
    let head = 0;
    const shortest = Math.min(before.length, after.length);
    while (head < shortest && before[head] === after[head]) head += 1;
    let tail = 0;
    while (
      tail < shortest - head &&
      before[before.length - 1 - tail] === after[after.length - 1 - tail]
    ) {
      tail += 1;
    }
    const editEnd = before.length - tail;
    const delta = after.length - before.length;
    return spans
      .filter((s) => s.end <= head || s.start >= editEnd)
      .map((s) => (s.start >= editEnd ? { ...s, start: s.start + delta, end: s.end + delta } : s));
  }

  function summary(findings) {
    const n = findings.length;
    if (!n) return "No problems found.";
    const blocking = findings.filter((f) => f.severity === "block").length;
    let words = `${n} problem${n === 1 ? "" : "s"}`;
    if (blocking) words += `: ${blocking} block${blocking === 1 ? "s" : ""} sending`;
    return `${words}.`;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setUp(form) {
    const options = (config.composers || {})[form.dataset.which];
    const area = form.querySelector("textarea");
    const backdrop = form.querySelector(".hl-backdrop");
    const status = form.querySelector(".check-status");
    const list = form.querySelector(".findings");
    if (!options || !area || !backdrop || !status || !list) return;
    const countBox = form.querySelector(".count");
    const countN = form.querySelector(".count-n");

    let spans = []; // {start, end, severity} in UTF-16 units of `shown`
    let shown = area.value;
    let timer = 0;
    let inFlight = null;
    let asked = 0;

    function layout() {
      // The backdrop wraps its text exactly where the textarea does: same width inside the
      // borders (a scrollbar narrows both), same scroll position.
      backdrop.style.width = `${area.clientWidth}px`;
      backdrop.style.height = `${area.clientHeight}px`;
      backdrop.style.top = `${area.clientTop}px`;
      backdrop.style.left = `${area.clientLeft}px`;
      backdrop.scrollTop = area.scrollTop;
      backdrop.scrollLeft = area.scrollLeft;
    }

    function paint() {
      const text = area.value;
      const cuts = new Set([0, text.length]);
      for (const s of spans) {
        cuts.add(Math.min(s.start, text.length));
        cuts.add(Math.min(s.end, text.length));
      }
      const points = [...cuts].sort((a, b) => a - b);
      const pieces = document.createDocumentFragment();
      for (let i = 0; i + 1 < points.length; i += 1) {
        const [a, b] = [points[i], points[i + 1]];
        if (a === b) continue;
        let worst = null;
        for (const s of spans) {
          if (s.start <= a && s.end >= b && (!worst || ORDER[s.severity] < ORDER[worst.severity])) {
            worst = s;
          }
        }
        const piece = text.slice(a, b);
        if (worst) {
          pieces.append(el("mark", `sev-${worst.severity}`, piece));
        } else {
          pieces.append(document.createTextNode(piece));
        }
      }
      // A last line that is empty in the textarea still takes room there.
      pieces.append(document.createTextNode("\u200b"));
      backdrop.replaceChildren(pieces);
      layout();
    }

    function count() {
      if (!countBox || !countN || !options.limit) return;
      const n = codePoints(area.value);
      countN.textContent = String(n);
      const over = n > options.limit;
      countBox.classList.toggle("over", over);
      let note = countBox.querySelector(".over-by");
      if (over) {
        if (!note) {
          note = el("span", "over-by");
          countBox.append(note);
        }
        note.textContent = ` — ${n - options.limit} too many`;
      } else if (note) {
        note.remove();
      }
    }

    function listFindings(text, findings, toUnits) {
      const sorted = [...findings].sort(
        (a, b) => ORDER[a.severity] - ORDER[b.severity] || a.start - b.start,
      );
      const items = sorted.map((f) => {
        const item = el("li", `finding sev-${f.severity}`);
        const head = el("p", "finding-head");
        head.append(
          el("span", "sev", SEVERITY_WORDS[f.severity] || f.severity),
          document.createTextNode(" "),
          el("span", "rule", String(f.rule).replace(/_/g, " ")),
        );
        const message = el("p", "finding-msg", f.message);
        if (f.end > f.start) {
          let excerpt = text.slice(toUnits(f.start), toUnits(f.end));
          if (excerpt.length > 80) excerpt = `${excerpt.slice(0, 77)}…`;
          message.append(document.createTextNode(" "), el("q", "", excerpt));
        }
        item.append(head, message, el("p", "finding-fix", f.suggestion));
        return item;
      });
      list.replaceChildren(...items);
    }

    function show(text, findings) {
      const toUnits = unitIndex(text);
      spans = findings
        .filter((f) => f.end > f.start)
        .map((f) => ({ start: toUnits(f.start), end: toUnits(f.end), severity: f.severity }));
      shown = text;
      paint();
      listFindings(text, findings, toUnits);
      status.removeAttribute("aria-busy");
      status.classList.remove("busy");
      status.textContent = summary(findings);
    }

    function check() {
      const text = area.value;
      if (inFlight) inFlight.abort();
      if (!text.trim()) {
        show(text, []);
        status.textContent = "The checker reads the reply as you write it.";
        return;
      }
      inFlight = new AbortController();
      asked += 1;
      const mine = asked;
      status.setAttribute("aria-busy", "true");
      status.classList.add("busy");
      const body = { text, case_id: config.caseId, public: options.public };
      if (options.channel) body.channel = options.channel;
      fetch(config.checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": csrf,
        },
        body: JSON.stringify(body),
        signal: inFlight.signal,
      })
        .then((response) => {
          if (!response.ok) throw new Error(`the checker answered ${response.status}`);
          return response.json();
        })
        .then((answer) => {
          if (mine !== asked || area.value !== text) return;
          show(text, Array.isArray(answer.findings) ? answer.findings : []);
        })
        .catch((error) => {
          if (error.name === "AbortError" || mine !== asked) return;
          status.removeAttribute("aria-busy");
          status.classList.remove("busy");
          status.textContent =
            "The checker could not be reached just now; the reply is still checked when you send it.";
        });
    }

    area.addEventListener("input", () => {
      spans = shiftSpans(shown, area.value, spans);
      shown = area.value;
      paint();
      count();
      window.clearTimeout(timer);
      timer = window.setTimeout(check, DEBOUNCE_MS);
    });
    area.addEventListener("scroll", layout);
    if ("ResizeObserver" in window) new ResizeObserver(layout).observe(area);
    window.addEventListener("resize", layout);

    paint();
    count();
    if (area.value.trim()) check();
  }

  for (const form of document.querySelectorAll("form.composer")) setUp(form);
})();
