// The complaint-rate chart on a problem page: its complaints week by week as bars (before the
// fix and since it, in two colours named in the legend), their share of all complaints as a
// line, and a dashed line on the day of the fix. The numbers come from the page's JSON block;
// the same numbers are in the table under the chart.
(function () {
  "use strict";

  var source = document.getElementById("rate-data");
  var canvas = document.getElementById("rate-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var weeks = data.weeks || [];
  if (!weeks.length) {
    return;
  }

  var INK = "#1d2330";
  var MUTED = "#4f5868";
  var BEFORE = "#8a93a3";
  var AFTER = "#1e6b35";
  var SHARE = "#0b5cad";

  var keys = weeks.map(function (w) { return w.week; });
  var labels = weeks.map(function (w) {
    var day = new Date(w.week + "T00:00:00Z");
    return day.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  });

  // A dashed vertical line where the fix fell within its week, with its date.
  var fixMarker = {
    id: "fixMarker",
    afterDatasetsDraw: function (chart) {
      var index = keys.indexOf(data.fixed_week);
      if (index < 0) {
        return;
      }
      var x = chart.scales.x;
      var step = keys.length > 1 ? x.getPixelForValue(1) - x.getPixelForValue(0) : x.width;
      var px = x.getPixelForValue(index) - step / 2 + step * (data.fixed_offset || 0);
      var area = chart.chartArea;
      var ctx = chart.ctx;
      var text = "Fixed " + data.fixed_at;
      ctx.save();
      ctx.strokeStyle = INK;
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = "600 12px system-ui, sans-serif";
      var width = ctx.measureText(text).width;
      var left = Math.max(area.left, px + 5 + width > area.right ? px - 5 - width : px + 5);
      // On a white label, so that it reads over the bars.
      ctx.fillStyle = "rgba(255, 255, 255, 0.9)";
      ctx.fillRect(left - 3, area.top + 1, width + 6, 16);
      ctx.fillStyle = INK;
      ctx.fillText(text, left, area.top + 13);
      ctx.restore();
    }
  };

  var quiet = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: labels,
      datasets: [
        {
          label: "Its complaints before the fix",
          data: weeks.map(function (w) { return w.before_fix || (w.after_fix ? null : 0); }),
          backgroundColor: BEFORE,
          yAxisID: "y",
          order: 2
        },
        {
          label: "Its complaints since the fix",
          data: weeks.map(function (w) { return w.after_fix ? w.since_fix : null; }),
          backgroundColor: AFTER,
          yAxisID: "y",
          order: 2
        },
        {
          type: "line",
          label: "Share of all complaints (%)",
          data: weeks.map(function (w) { return w.share; }),
          borderColor: SHARE,
          backgroundColor: SHARE,
          pointStyle: "rectRot",
          pointRadius: 4,
          borderWidth: 2,
          spanGaps: true,
          yAxisID: "share",
          order: 1
        }
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: quiet ? false : { duration: 400 },
      interaction: { mode: "index", intersect: false },
      scales: {
        x: {
          stacked: true,
          grid: { display: false },
          ticks: { color: MUTED, autoSkip: true, maxRotation: 0 }
        },
        y: {
          stacked: true,
          beginAtZero: true,
          title: { display: true, text: "complaints", color: MUTED },
          ticks: { color: MUTED, precision: 0 }
        },
        share: {
          position: "right",
          beginAtZero: true,
          grid: { drawOnChartArea: false },
          title: { display: true, text: "share %", color: MUTED },
          ticks: { color: MUTED }
        }
      },
      plugins: {
        legend: {
          position: "bottom",
          labels: {
            color: INK,
            boxWidth: 14,
            sort: function (a, b) { return a.datasetIndex - b.datasetIndex; }
          }
        },
        tooltip: {
          callbacks: {
            title: function (items) {
              return items.length ? "Week of " + keys[items[0].dataIndex] : "";
            },
            label: function (item) {
              if (item.raw === null || item.raw === undefined) {
                return null;
              }
              if (item.dataset.yAxisID === "share") {
                return "Share of all complaints: " + item.raw + "%";
              }
              var w = weeks[item.dataIndex];
              var when = item.datasetIndex === 0 ? "Before the fix: " : "Since the fix: ";
              return when + item.raw + " of " + w.total + " complaints";
            }
          },
          filter: function (item) {
            return item.raw !== null && item.raw !== undefined;
          }
        }
      }
    },
    plugins: [fixMarker]
  });
})();
