// What @moq/net and @moq/qmux expect of a browser-like runtime and Node 20
// lacks: Promise.withResolvers and Set.prototype.difference (both Node 22+),
// and a global WebSocket (the `ws` package stands in). Imported first by every interop script, before
// @moq/net is evaluated.
import WebSocket from "ws";

if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// The publisher's announce loop diffs its broadcast sets with it.
if (typeof Set.prototype.difference !== "function") {
  Object.defineProperty(Set.prototype, "difference", {
    configurable: true,
    writable: true,
    value: function difference(other) {
      const out = new Set();
      for (const v of this) if (!other.has(v)) out.add(v);
      return out;
    },
  });
}

if (typeof globalThis.WebSocket !== "function") {
  globalThis.WebSocket = WebSocket;
}

// @moq/net logs every announce and subscription (debug), each WebSocket
// connect (warn) and every session it sees end (error), which is most of
// what these tests do on purpose. The scripts report through
// process.stdout/stderr directly; the library's console output is shown
// only when MOQ_INTEROP_VERBOSE is set.
if (!process.env.MOQ_INTEROP_VERBOSE) {
  console.debug = () => {};
  console.warn = () => {};
  console.error = () => {};
}
