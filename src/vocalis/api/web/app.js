// Entry point: the navigation, the task dock, the router, and the few global behaviours.
// The only module that does anything when imported: the others export functions, and the
// ones that need timers or browser events export a start function that is called here.

import { mountDock } from "./dock.js";
import { clearDrafts } from "./drafts.js";
import { currentPath, navigate, reload, startRouter } from "./router.js";
import { isSignedIn, onSessionChange, startSession } from "./session.js";
import { activeTasks, resync, startTasks, subscribe } from "./tasks.js";

startSession();
startTasks(); // before the handler below: the store resets before the page changes

const nav = document.getElementById("nav");
const signInLink = document.getElementById("nav-signin");
const badge = document.getElementById("nav-running");

function updateChrome() {
  const signedIn = isSignedIn();
  nav.hidden = !signedIn;
  signInLink.hidden = signedIn || currentPath() === "/signin";
}

function updateBadge() {
  const running = activeTasks().length;
  badge.hidden = running === 0;
  badge.textContent = String(running);
  badge.setAttribute("aria-label", `${running} running`);
}

// One player at a time, across the whole app.
document.addEventListener("play", (event) => {
  for (const media of document.querySelectorAll("audio")) {
    if (media !== event.target && !media.paused) media.pause();
  }
}, true);

onSessionChange((session, previous, reason) => {
  if (reason === "signout") clearDrafts(); // the next person at this browser sees none
  updateChrome();
  if (!session) {
    if (currentPath() !== "/signin") {
      const query = reason === "expired" ? `?expired=1&next=${encodeURIComponent(location.pathname + location.search)}` : "";
      navigate(`/signin${query}`, { replace: true });
    }
  } else if (session.user?.id !== previous?.user?.id && previous) {
    reload(); // a different account signed in from another tab
  }
});

subscribe(updateBadge);
window.addEventListener("vocalis:navigated", updateChrome);

mountDock(document.getElementById("dock"));
updateChrome();
updateBadge();
startRouter(document.getElementById("main"));
if (isSignedIn()) resync();
