/** The page's style and its one small script (search, verdict filter, opening what a link points at). Nothing is loaded from anywhere. */

export const PAGE_STYLE = `
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#1d2330;overflow-wrap:anywhere}
h1{margin:0 0 4px;font-size:26px}h2{border-bottom:2px solid #dde3ee;padding-bottom:4px;margin-top:36px}h2 small{font-weight:normal;color:#5b6577;font-size:14px}
h3{margin:24px 0 0}h4{margin:18px 0 4px;color:#2c3e66}h5{margin:10px 0 4px}.uri{color:#7a8394;font-size:12px;font-family:monospace}
.meta{color:#5b6577}code{background:#f1f4f9;padding:1px 4px;border-radius:3px;font-size:13px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #dde3ee;padding:3px 10px;text-align:left;vertical-align:top}th{white-space:nowrap}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.table-wrap{max-width:100%;overflow-x:auto}
.summary{list-style:none;padding:0;font-size:17px}.summary li.failed strong{color:#c8372d}.summary li.passed strong{color:#1f7a45}
.toc{display:flex;flex-wrap:wrap;gap:4px 14px;margin:8px 0}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;position:sticky;top:0;background:#fff;padding:6px 0;z-index:1;border-bottom:1px solid #eef1f6}
.filters input{flex:1 1 220px;font:inherit;padding:4px 8px;border:1px solid #c5cdda;border-radius:4px}.filters select{font:inherit;padding:4px}
.scenario{border-left:4px solid #2e9e5b;background:#f6fbf8;margin:6px 0;padding:4px 10px}
.scenario.failed{border-color:#c8372d;background:#fdf3f2}.scenario.skipped{border-color:#b3b9c4;background:#f6f7f9}
.scenario>summary{cursor:pointer;display:flex;gap:4px 10px;align-items:baseline;flex-wrap:wrap;list-style-position:inside}
.scenario>summary::marker{color:#7a8394}.scenario>summary>*{min-width:0}
.verdict{font-weight:600}.passed>summary .verdict,.passed .verdict{color:#1f7a45}.failed>summary .verdict,.failure .verdict{color:#c8372d}.skipped>summary .verdict{color:#5b6577}
.duration{color:#7a8394;font-size:13px}.tag{font-size:12px;background:#e7ecf5;border-radius:10px;padding:0 8px;color:#2c3e66;cursor:pointer}
.example{min-width:0}.ex-value{font-size:13px;background:#fff;border:1px solid #dde3ee;border-radius:3px;padding:0 6px;margin-right:4px}.example .header{color:#7a8394}
.log{font-size:12px;border-radius:10px;padding:0 8px;margin-right:4px;background:#e7ecf5}.log.passed{background:#dff2e6;color:#1f7a45}.log.failed{background:#f8dcd9;color:#a52a21}
.retried{font-size:12px;color:#8a5a00;background:#fff1d6;border-radius:10px;padding:0 8px}
.rule{margin-left:6px}.background{margin:8px 0;color:#394256}.background .steps{margin:2px 0}
ol.steps{list-style:none;padding-left:0;margin:6px 0}ol.steps.plain{padding-left:16px}
.step{padding:2px 0;border-bottom:1px dashed #e3e7ef}.step-line{display:flex;gap:4px 8px;flex-wrap:wrap;align-items:baseline}
.step .keyword,.background .keyword{font-weight:600;color:#2c3e66}.step .text{flex:1 1 200px}.step .status{font-size:12px;color:#5b6577}
.status-icon{width:1.2em;display:inline-block}.step.passed .status-icon{color:#1f7a45}.step.failed .status-icon,.step.ambiguous .status-icon,.step.undefined .status-icon,.step.pending .status-icon{color:#c8372d}.step.skipped .status-icon{color:#8a92a3}
.step.skipped .text{color:#8a92a3}.from-background{font-size:11px;color:#7a8394;border:1px solid #dde3ee;border-radius:3px;padding:0 4px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0}pre.doc-string{background:#fff;border-left:3px solid #c5cdda;padding:4px 8px;font-size:13px}
pre.message{background:#fff;border:1px solid #f0c4c0;padding:6px;font-size:12px}pre.snippet{background:#fffbe8;border:1px solid #eadca0;padding:6px;font-size:12px}
.data-table td{font-size:13px;background:#fff}
.attachment{margin:4px 0 4px 20px;font-size:13px}.attachment img{display:block;max-width:100%;image-rendering:pixelated;min-width:16px;border:1px solid #dde3ee;margin-top:2px}
.attachment pre{background:#fff;border:1px solid #dde3ee;padding:4px;max-height:300px;overflow:auto}.media-type{color:#7a8394;font-family:monospace;font-size:12px}.cut{color:#7a8394}
.attempt{margin:4px 0;padding-left:8px;border-left:2px dashed #e0b44c}.attempt-label{font-size:13px;color:#5b6577}
.failures ol{padding-left:20px}.failure{margin:8px 0}.failing-step{font-family:monospace;font-size:13px;margin-top:2px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
figure.chart{margin:8px 0;border:1px solid #eef1f6;border-radius:6px;padding:8px}figure.chart figcaption{font-weight:600;margin-bottom:4px}
.bar-row{margin:4px 0}.bar-label{display:block;font-size:13px}.track{display:flex;align-items:center;gap:6px}
.bar-space{flex:1 1 auto;min-width:0}.bar{height:16px;border-radius:3px;background:#3d6fd9}.bar.series-sqlite{background:#8c6bc8}.bar.series-raw{background:#8a92a3}.bar.series-postgresql{background:#2f8f9d}.bar.series-other{background:#d28b2c}
.value{font-size:13px;white-space:nowrap;font-variant-numeric:tabular-nums}.not-measured{font-size:12px;color:#8a92a3}
svg.trend{width:100%;max-width:240px;height:40px;display:block}svg.trend path{fill:none;stroke:#3d6fd9;stroke-width:1.5;vector-effect:non-scaling-stroke}svg.trend circle{fill:#3d6fd9}
.trend-cell{min-width:120px;width:30%}tr.regression td{background:#fdf3f2}tr.regression strong{color:#c8372d}
.scale-run h4{margin-bottom:0}.scale{font-size:17px}
tr.failed td{color:#c8372d}table.figures td:last-child{white-space:nowrap}tr.scenario-row th{background:#f6f7f9;font-weight:600}
.hidden{display:none!important}
@media (max-width:640px){body{padding:10px;font-size:14px}td,th{padding:2px 6px}.scenario>summary{gap:2px 6px}.attachment{margin-left:0}}
`;

/** Search and verdict filter; a link to a scenario opens it. Without scripts the page shows everything. */
export const PAGE_SCRIPT = `
(function () {
  var search = document.getElementById('search');
  var verdict = document.getElementById('verdict-filter');
  var count = document.getElementById('filter-count');
  var scenarios = Array.prototype.slice.call(document.querySelectorAll('details.scenario'));
  function apply() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var wanted = verdict.value;
    var shown = 0;
    scenarios.forEach(function (s) {
      // The scenario's whole text: name, example values, tags, steps, messages.
      var text = s.searchText || (s.searchText = s.textContent.toLowerCase());
      var ok = words.every(function (w) { return text.indexOf(w) >= 0; }) && (!wanted || s.getAttribute('data-verdict').split(' ').indexOf(wanted) >= 0);
      s.classList.toggle('hidden', !ok);
      if (ok) shown++;
    });
    ['section.rule', 'article.feature', 'section.capability'].forEach(function (selector) {
      document.querySelectorAll(selector).forEach(function (block) {
        block.classList.toggle('hidden', !block.querySelector('details.scenario:not(.hidden)'));
      });
    });
    count.textContent = words.length || wanted ? shown + ' of ' + scenarios.length + ' scenarios' : '';
  }
  search.addEventListener('input', apply);
  verdict.addEventListener('change', apply);
  document.addEventListener('click', function (e) {
    var tag = e.target.closest && e.target.closest('.tag');
    if (!tag) return;
    e.preventDefault();
    search.value = tag.textContent;
    apply();
  });
  function openTarget() {
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === 'DETAILS') { target.open = true; target.scrollIntoView(); }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
`;
