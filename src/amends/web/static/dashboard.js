/* The dashboard's charts, drawn with Chart.js from the page's #dashboard-data block.
   Every chart has its numbers in a table under it, so the page reads without this script. */
(function () {
  "use strict";

  // Dark enough to stand out on white (3:1 or more), and told apart by legend labels, dash
  // patterns and point shapes as well as by colour.
  var PALETTE = ["#0b5cad", "#c2410c", "#1e6b35", "#7c3aed", "#a4161a", "#0e7490",
    "#8a6100", "#be185d", "#4d7c0f", "#4f5868"];
  var DASHES = [[], [6, 4], [2, 3], [10, 4, 2, 4]];
  var POINTS = ["circle", "rect", "triangle", "rectRot", "rectRounded", "crossRot"];
  var MOST = 8; // series drawn one by one; the rest are added up as one

  function colour(i) { return PALETTE[i % PALETTE.length]; }

  // When the window form's dates change, the window is those dates.
  function followDates() {
    var range = document.getElementById("dash-range");
    ["dash-from", "dash-to"].forEach(function (id) {
      var input = document.getElementById(id);
      if (range && input) {
        input.addEventListener("change", function () { range.value = "dates"; });
      }
    });
  }

  function fold(series, rest) {
    if (series.length <= MOST) { return series; }
    var kept = series.slice(0, MOST - 1);
    var others = series.slice(MOST - 1);
    var values = others[0].values.map(function (_, i) {
      return others.reduce(function (sum, s) { return sum + (s.values[i] || 0); }, 0);
    });
    kept.push({ key: rest + " (" + others.length + ")", values: values });
    return kept;
  }

  function bars(series) {
    return series.map(function (s, i) {
      return {
        label: s.key, data: s.values, backgroundColor: colour(i),
        borderColor: "#ffffff", borderWidth: 1, pointStyle: "rect"
      };
    });
  }

  function line(label, data, i) {
    return {
      label: label, data: data, borderColor: colour(i), backgroundColor: colour(i),
      borderWidth: 2, borderDash: DASHES[i % DASHES.length],
      pointStyle: POINTS[i % POINTS.length], pointRadius: 3, pointHoverRadius: 5,
      tension: 0, spanGaps: false
    };
  }

  function numbers(values) {
    return values.map(function (v) { return v === null ? null : Number(v); });
  }

  function options(yTitle, more) {
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var y = { beginAtZero: true, title: { display: true, text: yTitle }, ticks: { precision: 0 } };
    var x = { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } };
    if (more.stacked) { x.stacked = true; y.stacked = true; }
    if (more.y) { Object.keys(more.y).forEach(function (k) { y[k] = more.y[k]; }); }
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduced ? false : { duration: 250 },
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 10, boxHeight: 10 } },
        tooltip: { callbacks: more.tooltip ? { label: more.tooltip } : {} }
      },
      scales: { x: x, y: y }
    };
  }

  function percentTicks() {
    return { min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } } };
  }

  function suffixed(suffix) {
    return function (item) {
      var v = item.parsed.y;
      return item.dataset.label + ": " + (v === null ? "—" : v + suffix);
    };
  }

  function draw(id, type, labels, datasets, opts) {
    var canvas = document.getElementById("chart-" + id);
    if (!canvas) { return; }
    // The canvas's aria-label already says what the chart shows.
    return new window.Chart(canvas, { type: type, data: { labels: labels, datasets: datasets }, options: opts });
  }

  function build(data) {
    var labels = data.labels;
    var Chart = window.Chart;
    Chart.defaults.color = "#1d2330";
    Chart.defaults.borderColor = "#e3e7ee";
    Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';

    draw("volume-channel", "bar", labels, bars(fold(data.volume.by_channel, "other channels")),
      options("items", { stacked: true }));
    draw("volume-category", "bar", labels, bars(fold(data.volume.by_category, "other categories")),
      options("items", { stacked: true }));
    draw("sentiment", "line", labels, [line("mean sentiment", data.sentiment.mean_score, 0)],
      options("mean sentiment", { y: { min: -1, max: 1, beginAtZero: false, ticks: { stepSize: 0.5 } } }));

    [["first-response", data.first_response], ["resolution", data.resolution]].forEach(function (pair) {
      draw(pair[0], "line", labels, [
        line("median", pair[1].median_hours, 0),
        line("90th percentile", pair[1].p90_hours, 1)
      ], options("hours", { tooltip: suffixed(" h"), y: { ticks: {} } }));
    });

    draw("sla", "line", labels, [line("SLA attainment", data.sla.attainment_pct, 2)],
      options("% of clocks met", { y: percentTicks(), tooltip: suffixed(" %") }));
    draw("rates", "line", labels, [
      line("recovery rate", data.recovery.rate_pct, 2),
      line("reopen rate", data.reopen.rate_pct, 1)
    ], options("%", { y: percentTicks(), tooltip: suffixed(" %") }));

    draw("compensation", "bar", labels, data.compensation.map(function (c, i) {
      return {
        label: c.currency + " spend", data: numbers(c.spend), backgroundColor: colour(i),
        borderColor: "#ffffff", borderWidth: 1, pointStyle: "rect"
      };
    }), options("amount", { y: { ticks: {} } }));

    var coaching = data.coaching;
    var agents = fold(coaching.agents.map(function (a) {
      return { key: a.name, values: a.findings };
    }), "other agents");
    var lines = agents.map(function (a, i) { return line(a.key, a.values, i); });
    if (!coaching.every_agent || coaching.agents.length === 0) {
      var total = line(coaching.every_agent ? "everyone" : "your teams' total",
        coaching.total.findings, lines.length);
      total.borderColor = total.backgroundColor = "#4f5868";
      total.borderDash = [6, 4];
      lines.push(total);
    }
    draw("coaching", "line", labels, lines, options("findings", {}));
  }

  function start() {
    followDates();
    var block = document.getElementById("dashboard-data");
    if (!block || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(block.textContent);
    if (!data || data.empty) { return; }
    document.documentElement.classList.add("dash-js");
    build(data);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
