// What the node-format interop tests share: the order of moq's Traffic
// fields, reading a track's frames until one is the awaited one, and
// dialling the sidecar's MoQ listener while it starts.
import { fail, within } from "./harness.mjs";
import { connectClient } from "./moq.mjs";

// The twelve counters of a path, in the order moq's Traffic serializes them.
export const TRAFFIC_ORDER = ["announced", "announced_closed", "announced_bytes", "broadcasts", "broadcasts_closed",
  "subscriptions", "subscriptions_closed", "fetches", "bytes", "frames", "groups", "datagrams"];

// Reads frames of `subscriber` until `accept(text, value)` is true; returns
// that frame's text. Fails naming `what` and every frame seen when the track
// ends or `ms` passes.
export async function readUntil(subscriber, accept, ms, what) {
  const seen = [];
  const read = async () => {
    for (;;) {
      const group = await subscriber.recvGroup();
      if (group === undefined) fail(`the track ended while waiting for ${what} (seen: ${seen.join(" | ")})`);
      const text = await group.readString();
      if (text === undefined) continue;
      seen.push(text);
      if (accept(text, JSON.parse(text))) return text;
    }
  };
  try {
    return await within(ms, what, read());
  } catch (err) {
    throw new Error(`${err.message} (frames seen: ${seen.join(" | ")})`);
  }
}

// A moq-lite-05 client of the MoQ listener on 127.0.0.1:`port`, tried every
// 100 ms (50 tries) while the sidecar starts listening: { session, conn }.
export async function connectWhenListening(port) {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return await connectClient(`ws://127.0.0.1:${port}/`, "moq-lite-05", 2000);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  fail(`could not connect to 127.0.0.1:${port}`);
}
