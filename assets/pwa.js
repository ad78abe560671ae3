/* Registers the installable app's service worker (/sw.js; README: Installable app).
 *
 * On every page, after it has loaded: the worker's install (it fetches the app shell) never
 * competes with the page's own first load, the sign-in page's included. Then it tells the
 * worker which files this page loaded before the worker could see them, so a first visit
 * already opens offline.
 */
(() => {
  if (!("serviceWorker" in navigator) || window.__chatServiceWorker) return;
  window.__chatServiceWorker = true;

  // What the page loaded itself (not its fetch() calls: data is never the worker's to keep).
  const SHELL_KINDS = new Set(["script", "link", "css", "img", "other"]);

  function loaded() {
    const urls = [location.href];
    for (const entry of performance.getEntriesByType("resource")) {
      if (SHELL_KINDS.has(entry.initiatorType)) urls.push(entry.name);
    }
    return urls;
  }

  async function register() {
    try {
      await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      const ready = await navigator.serviceWorker.ready;
      ready.active?.postMessage({ type: "keep", page: location.href, urls: loaded() });
    } catch (error) {
      console.warn("The app works without its offline copy:", error);
    }
  }

  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
})();
