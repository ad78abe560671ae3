/* Registers the installable app's service worker (/sw.js; README: Installable app).
 *
 * After the page has loaded, and not on the sign-in pages: the worker's install fetches the
 * app shell, which would compete with the sign-in's own requests and the code typed into
 * the boxes. The sign-in pages move on to /profile or /chat without a page load, so they
 * look again after each navigation. Once registered, the page tells the worker which files
 * it loaded before the worker could see them, so a first visit already opens offline.
 * Installing the app does not need the worker: the manifest is linked from every page.
 */
(() => {
  if (!("serviceWorker" in navigator) || window.__chatServiceWorker) return;
  window.__chatServiceWorker = "waiting";

  const SIGN_IN = ["/login", "/verify"];
  // What the page loaded itself (not its fetch() calls: data is never the worker's to keep).
  const SHELL_KINDS = new Set(["script", "link", "css", "img", "other"]);

  function onSignInPage() {
    const path = location.pathname.replace(/\/+$/, "");
    return SIGN_IN.includes(path);
  }

  function loaded() {
    const urls = [location.href];
    for (const entry of performance.getEntriesByType("resource")) {
      if (SHELL_KINDS.has(entry.initiatorType)) urls.push(entry.name);
    }
    return urls;
  }

  async function register() {
    window.__chatServiceWorker = "registered";
    try {
      await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      const ready = await navigator.serviceWorker.ready;
      ready.active?.postMessage({ type: "keep", page: location.href, urls: loaded() });
    } catch (error) {
      console.warn("The app works without its offline copy:", error);
    }
  }

  function registerPastSignIn() {
    if (window.__chatServiceWorker === "registered") return;
    if (!onSignInPage()) {
      register();
    } else if ("navigation" in window) {
      navigation.addEventListener("navigatesuccess", registerPastSignIn, { once: true });
    } else {
      setTimeout(registerPastSignIn, 2000);
    }
  }

  if (document.readyState === "complete") registerPastSignIn();
  else window.addEventListener("load", registerPastSignIn, { once: true });
})();
