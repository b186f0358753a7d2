// The feed page, live: each event from /feed/live (WatchActivity) goes on top.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is lost.
"use strict";
(function () {
  const list = document.getElementById("feed");
  if (!list || !window.EventSource) return;
  const status = document.getElementById("feed-status");
  const unread = document.getElementById("unread-count");
  const source = new EventSource(list.dataset.live);
  source.addEventListener("ready", () => { status.textContent = "(live)"; });
  source.addEventListener("error", () => { status.textContent = "(reconnecting)"; });
  source.addEventListener("activity", (message) => {
    const event = JSON.parse(message.data);
    const item = document.createElement("li");
    item.className = "activity unread";
    item.dataset.sequence = message.lastEventId;
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = event.kind;
    const summary = document.createElement("span");
    summary.className = "summary";
    summary.textContent = event.summary;
    item.append(kind, ": ", summary);
    list.prepend(item);
    const empty = document.getElementById("feed-empty");
    if (empty) empty.remove();
    unread.textContent = String(Number(unread.textContent) + 1);
  });
})();
