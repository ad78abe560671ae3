/* The installable app's service worker (README: Installable app), registered by /pwa.js.
 *
 * Served at /sw.js, so its scope is the whole site. It keeps the app shell (the pages' HTML,
 * their scripts and styles, the manifest and icons) so that the app opens without a network
 * and shows its offline banner; what a person reads and writes never goes through it:
 *
 * - pages (navigations): network first; the cached page when the network fails, or the
 *   build's SPA fallback for a page never cached (a conversation's /chat/<id>);
 * - the build's content-hashed files (/assets/…): from the cache, else the network (a
 *   changed file has a new name);
 * - every other script, style, font, image and the manifest: network first, the cache
 *   as the fallback (so a development server's edits show at once);
 * - never cached, never answered from the cache: the API and the media under it (/api/),
 *   Reflex's websocket and upload routes (/_event, /_upload, …), the development outbox
 *   (/dev/), /metrics, /ping, and any request that is not a GET or not to this origin.
 *
 * Versions: the production build (chat_web/pwa.py) stamps VERSION with a hash of the
 * build and SHELL with its files, so every deploy changes this file. The browser notices
 * on the next page load, installs the new worker, which caches the new shell, takes over
 * at once (skipWaiting, clients.claim) and deletes every older cache.
 */
"use strict";

// Stamped by the production build (chat_web/pwa.py); a development server serves them as they are.
const VERSION = "development";
const SHELL = [];

const PREFIX = "chat-shell-";
const CACHE = `${PREFIX}${VERSION}`;
const START = "/chat"; // the manifest's start_url
const SPA_FALLBACK = "/__spa-fallback.html"; // production: the page for any route not prerendered
const NEVER = [
  "/api/",
  "/_event",
  "/_upload",
  "/_health",
  "/_all_routes",
  "/_reflex",
  "/auth-codespace",
  "/dev/",
  "/metrics",
  "/ping",
  "/sw.js",
];
const STATIC = new Set(["script", "style", "font", "image", "manifest"]);
const HASHED = "/assets/"; // Vite's output: the name changes with the content
const MAX_REPORTED = 400; // URLs a page may ask to keep at once
// Our own entries: the server's Vary (Accept-Encoding) names a header requests here never carry.
const MATCH = { ignoreVary: true };

function cacheable(url) {
  return url.origin === self.location.origin && !NEVER.some((prefix) => url.pathname.startsWith(prefix));
}

// A page is kept by its path, without the query and the trailing slash: /profile?welcome=1
// and /profile are one shell, and /chat is kept from /chat/ (where the production server
// redirects it).
function pagePath(url) {
  return url.pathname === "/" ? "/" : url.pathname.replace(/\/+$/, "");
}

function pageKey(url) {
  return `${url.origin}${pagePath(url)}`;
}

function storable(response) {
  return response.ok && response.type === "basic" && !/no-store/i.test(response.headers.get("Cache-Control") || "");
}

// A response that followed a redirect may not answer a navigation: keep a plain copy.
function plain(response) {
  if (!response.redirected) return response;
  const { status, statusText, headers } = response;
  return new Response(response.body, { status, statusText, headers });
}

async function keep(key, response) {
  if (!storable(response)) return;
  const cache = await caches.open(CACHE);
  await cache.put(key, plain(response));
}

// A hashed file may come from the HTTP cache (its name is its content); the rest is checked
// with the server (a 304 when unchanged), so a new version never keeps an old copy.
async function precache(cache, path) {
  const response = await fetch(new Request(path, { cache: path.startsWith(HASHED) ? "default" : "no-cache" }));
  if (!storable(response)) throw new Error(`the shell's ${path} answered ${response.status}`);
  await cache.put(path, plain(response));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The build's shell, all or nothing: a new version that cannot cache it does not take over.
      await Promise.all(SHELL.map((path) => precache(cache, path)));
      if (!SHELL.includes(START)) {
        // A development server: the start page at least; its modules are kept as they load.
        try {
          await keep(START, await fetch(new Request(START, { cache: "no-cache" })));
        } catch {
          // offline while installing: the start page is kept when it next loads
        }
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith(PREFIX) && name !== CACHE).map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

// Each answer goes to the page at once; its copy is written to the cache meanwhile
// (`later`: the fetch event's waitUntil, which keeps the worker alive until it is done).
async function page(request, url, later) {
  const key = pageKey(url);
  try {
    const response = await fetch(request);
    // Production keeps the pages of its shell fresh; a development server, every page it served.
    if (!SHELL.length || SHELL.includes(pagePath(url))) {
      later(keep(key, response.clone()));
    }
    return response;
  } catch (error) {
    const cache = await caches.open(CACHE);
    const cached = (await cache.match(key, MATCH)) || (await cache.match(SPA_FALLBACK, MATCH));
    if (cached) return cached;
    throw error;
  }
}

async function hashed(request, later) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, MATCH);
  if (cached) return cached;
  const response = await fetch(request);
  later(keep(request, response.clone()));
  return response;
}

async function networkFirst(request, later) {
  try {
    const response = await fetch(request);
    later(keep(request, response.clone()));
    return response;
  } catch (error) {
    const cached = await (await caches.open(CACHE)).match(request, MATCH);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (!cacheable(url)) return; // straight to the network, as if there were no worker
  const later = (promise) => event.waitUntil(promise.catch(() => {})); // a full disk: not kept, still answered
  if (request.mode === "navigate") {
    event.respondWith(page(request, url, later));
  } else if (STATIC.has(request.destination)) {
    event.respondWith(url.pathname.startsWith(HASHED) ? hashed(request, later) : networkFirst(request, later));
  }
});

// The page that registered the worker loaded its files before the worker could see them:
// it sends their URLs (pwa.js), and those of the shell not cached yet are fetched and kept.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      for (const raw of data.urls.slice(0, MAX_REPORTED)) {
        let url;
        try {
          url = new URL(raw, self.location.origin);
        } catch {
          continue;
        }
        if (!cacheable(url)) continue;
        const isPage = raw === data.page;
        const key = isPage ? pageKey(url) : url.href;
        if (isPage && SHELL.length && !SHELL.includes(pagePath(url))) continue;
        if (await cache.match(key, MATCH)) continue;
        try {
          // The copy the page itself just loaded, from the HTTP cache: no second download.
          await keep(key, await fetch(key, { cache: "force-cache" }));
        } catch {
          // gone offline meanwhile: what is missing is kept on a later load
        }
      }
    })(),
  );
});

// Web Push (README "Push notifications"): the server pushes a message that no tab of the
// reader showed; the payload is {title, body, tag, url} (chat_web/domain/push.py). One
// notification per chat at a time (the tag), as the page's own notifications do.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "Chat", {
      body: data.body || "",
      tag: data.tag || undefined,
      icon: "/icons/icon-192.png",
      data: { url: data.url || START },
    }),
  );
});

// A click opens that chat: a tab already on it comes to the front, else one of ours goes
// there, else a new window opens. Only this site's chat pages are opened.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const wanted = (event.notification.data || {}).url || START;
  const url = new URL(wanted.startsWith("/chat") ? wanted : START, self.location.origin);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const there = windows.find((client) => new URL(client.url).pathname === url.pathname);
      if (there) return there.focus();
      const ours = windows.find((client) => new URL(client.url).origin === url.origin);
      if (ours) {
        await ours.focus();
        try {
          return await ours.navigate(url.href);
        } catch {
          // a tab this worker does not control yet cannot be navigated from here
        }
      }
      return self.clients.openWindow(url.href);
    })(),
  );
});
