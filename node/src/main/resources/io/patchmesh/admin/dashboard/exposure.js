// patchmesh dashboard, exposure page: per CVE hosts exposed / in rollout / fixed / not reporting
// by site, what fixes it, and per host its open CVEs. Seeds only; hidden where the API is absent.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));

  async function api(path) {
    const token = sessionStorage.getItem("patchmesh-token") || "";
    const r = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    if (!r.ok) throw new Error(path + ": " + r.status);
    return r.json();
  }

  function render(exp, adv, hosts) {
    const fixes = {};
    for (const a of adv.advisories) fixes[a.id] = a;
    if (exp.cves.length === 0) return `<p class="muted">No advisories imported and no manifest names a CVE.</p>`;
    let rows = "";
    for (const c of exp.cves) {
      const a = fixes[c.id] || {};
      const fix = a.fixedBy && a.fixedBy.length ? a.fixedBy.map(esc).join("<br>") : `<span class="state-failed">no fix published</span>`;
      // one line per site, in the order of the fleet-wide columns
      const sites = c.sites.map((s) => `${esc(s.site)} <span class="${s.exposed ? "state-failed" : ""}">${s.exposed}</span>/` +
        `${s.inRollout}/<span class="${s.fixed ? "state-applied" : ""}">${s.fixed}</span>/${s.notReporting}`).join("<br>");
      rows += `<tr data-cve="${esc(c.id)}"><td title="${esc(c.aliases.join(", "))}">${esc(c.id)}</td>` +
        `<td class="sev-${esc(c.severity)}">${esc(c.severity)}</td>` +
        `<td class="num ${c.exposed ? "state-failed" : ""}">${c.exposed}</td><td class="num">${c.inRollout}</td>` +
        `<td class="num ${c.fixed ? "state-applied" : ""}">${c.fixed}</td><td class="num muted">${c.notReporting}</td>` +
        `<td>${fix}${a.rangesUnderstood === false ? ` <span class="muted">(range not understood)</span>` : ""}</td>` +
        `<td class="fill muted">${sites}</td></tr>`;
    }
    let open = "";
    for (const h of hosts.hosts) {
      if (!h.openCves.length && h.reporting) continue;
      open += `<tr><td>${esc(h.site)}</td><td title="${esc(h.id)}">${esc(h.hostname || "")} <span class="muted">${esc(h.id.slice(0, 12))}</span></td>` +
        `<td class="fill">${h.reporting ? h.openCves.map((c) => `${esc(c.id)} <span class="sev-${esc(c.severity)}">${esc(c.severity)}</span>`).join(", ") : `<span class="muted">not reporting</span>`}</td></tr>`;
    }
    return `<table><tr><th>CVE</th><th>severity</th><th class="num">exposed</th><th class="num">in rollout</th>` +
      `<th class="num">fixed</th><th class="num">not reporting</th><th>fixed by</th><th class="fill">by site<br><span class="muted">exposed/in rollout/fixed/not reporting</span></th></tr>${rows}</table>` +
      `<details><summary>hosts with open CVEs</summary><table><tr><th>site</th><th>host</th><th class="fill">open CVEs</th></tr>${open}</table></details>`;
  }

  async function refresh() {
    try {
      const [exp, adv, hosts] = await Promise.all([api("/api/v1/exposure"), api("/api/v1/advisories"), api("/api/v1/exposure/hosts")]);
      $("exposure").innerHTML = render(exp, adv, hosts);
      $("exposure-section").hidden = false;
    } catch (e) {
      $("exposure-section").hidden = true; // not a seed, or no token yet
    }
  }
  refresh();
  setInterval(refresh, 10000); // exposure walks every host: every 10 s, not every second
})();
