// The vendor dashboard's chart: Chart.js draws the numbers the page carries in data-chart. The table next to
// the canvas has the same numbers, for screen readers and for browsers without JavaScript.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("revenue-chart");
    if (!canvas || typeof Chart === "undefined") return;
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var palette = ["#1f5fbf", "#1d6b3a", "#8a5a00", "#a3211c"];
    var datasets = [];
    data.currencies.forEach(function (currency, index) {
      datasets.push({ type: "bar", label: "Gross (" + currency + ")", data: data.gross[currency].map(Number),
        backgroundColor: "rgba(31, 95, 191, 0.35)", borderColor: palette[index % 4], borderWidth: 1, yAxisID: "money" });
      datasets.push({ type: "bar", label: "Your share (" + currency + ")", data: data.share[currency].map(Number),
        backgroundColor: palette[index % 4], yAxisID: "money" });
    });
    datasets.push({ type: "line", label: "Active licenses", data: data.active, borderColor: "#8a5a00",
      backgroundColor: "#8a5a00", yAxisID: "licenses" });
    canvas.chart = new Chart(canvas, {
      data: { labels: data.labels, datasets: datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          money: { position: "left", beginAtZero: true, title: { display: true, text: "Revenue" } },
          licenses: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
            ticks: { precision: 0 }, title: { display: true, text: "Active licenses" } }
        }
      }
    });
    canvas.setAttribute("data-rendered", "true");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
