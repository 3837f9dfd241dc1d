// medchain console, alarms in the Doctor view: `medchain watch`'s notices
// for the doctor's patients, streamed by the console (SSE `alarm` from
// /api/alarms/events, tailed from watch's journal), each with an
// Acknowledge button (POST /api/alarms/ack, kept server-side for this
// address). DOM with textContent only (el() from app.js).
"use strict";

let alarmStream = null;

function alarmItem(n) {
  const what = (n.crossed || []).map((c) => `${c.vital} ${c.value} ${c.unit} (${c.bound} ${c.limit})`).join(", ");
  const li = el("li", { "data-alarm": n.key, class: n.acknowledged ? "acked" : "alarm" },
    `${n.kind === "retraction" ? "RETRACTED " : ""}patient ${short(n.patient)} · record ${n.record_id} · ${what} · ${n.decided_at || ""} `);
  if (n.acknowledged) li.append(el("span", { class: "ack-state" }, "acknowledged"));
  else li.append(el("button", { type: "button", class: "ack", onclick: () => acknowledge(n, li) }, "Acknowledge"));
  return li;
}

async function acknowledge(n, li) {
  try {
    await getJson("/api/alarms/ack", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: n.key }) });
    li.replaceWith(alarmItem({ ...n, acknowledged: true }));
  } catch (e) { $("alarms-error").textContent = e.message; }
}

/** (Re)opens the doctor's alarm stream; the newest alarm shows first. */
window.watchAlarms = () => {
  if (alarmStream) alarmStream.close();
  $("alarms").replaceChildren();
  $("alarms-error").textContent = "";
  alarmStream = new EventSource("/api/alarms/events");
  alarmStream.addEventListener("alarm", (ev) => {
    const n = JSON.parse(ev.data);
    $("alarms").prepend(alarmItem(n));
  });
  alarmStream.onerror = () => { $("alarms-error").textContent = "alarm stream interrupted; reconnecting…"; };
  alarmStream.onopen = () => { $("alarms-error").textContent = ""; };
};

window.stopAlarms = () => { if (alarmStream) { alarmStream.close(); alarmStream = null; } };
