// The claims desk: plans follow the programme; loss lines are added and removed. No network.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var programme = document.querySelector("[data-programme-select]");
  var plan = document.querySelector("[data-plan-select]");
  function filterPlans() {
    if (!programme || !plan) return;
    var any = false;
    Array.prototype.forEach.call(plan.options, function (o) {
      var p = o.getAttribute("data-programme");
      var show = !p || p === programme.value;
      o.hidden = !show; o.disabled = !show;
      if (p && show) any = true;
      if (!show && o.selected) plan.value = "";
    });
    plan.disabled = !any;
  }
  if (programme) { programme.addEventListener("change", filterPlans); filterPlans(); }

  function renumber(tbody) {
    var name = tbody.getAttribute("data-rows");
    Array.prototype.forEach.call(tbody.querySelectorAll("tr.row"), function (tr, i) {
      tr.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(new RegExp("^" + name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "\\[\\d+\\]"), name + "[" + i + "]");
        if (el.id) el.id = el.id.replace(/-\d+-/, "-" + i + "-");
      });
    });
  }
  document.querySelectorAll("[data-add-row]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var tbody = document.querySelector("[data-rows='" + btn.getAttribute("data-add-row") + "']");
      var rows = tbody.querySelectorAll("tr.row");
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach(function (el) { el.value = ""; });
      copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
      copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      tbody.appendChild(copy);
      renumber(tbody);
      var first = copy.querySelector("select, input");
      if (first) first.focus();
    });
  });
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-remove-row]");
    if (!btn) return;
    var tr = btn.closest("tr"), tbody = tr.parentNode;
    if (tbody.querySelectorAll("tr.row").length > 1) { tr.remove(); }
    else { tr.querySelectorAll("input").forEach(function (el) { el.value = ""; });
           tr.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; }); }
    renumber(tbody);
  });
});
