// offline.cjs is preloaded into every Node process of the federation test
// (node --require ./offline.cjs). The router and the subgraph must work
// with no network but loopback: nothing from a CDN, no usage reporting, no
// telemetry, no cloud metadata probes. Any TCP connection or DNS lookup
// that leaves 127.0.0.1/::1/localhost is refused, and a line starting with
// "offline: blocked" goes to stderr, which the Go test reads and fails on.
'use strict';
const net = require('node:net');
const dns = require('node:dns');

const local = (host) =>
  host === undefined || host === null || host === '' ||
  host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';

function block(what) {
  process.stderr.write(`offline: blocked ${what}\n`);
  return new Error(`offline: ${what} is not allowed in the federation test`);
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let opts = args[0];
  if (Array.isArray(opts)) opts = opts[0]; // internal normalized form
  let host;
  if (opts && typeof opts === 'object') {
    if (opts.path) return connect.apply(this, args); // unix socket
    host = opts.host;
  } else if (typeof args[1] === 'string') {
    host = args[1];
  }
  if (!local(host)) {
    const err = block(`connect to ${host}`);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
};

for (const mod of [dns, dns.promises]) {
  const lookup = mod.lookup;
  mod.lookup = function (host, ...rest) {
    if (!local(host)) {
      const err = block(`dns lookup of ${host}`);
      const cb = rest.find((a) => typeof a === 'function');
      if (cb) { process.nextTick(() => cb(err)); return undefined; }
      return Promise.reject(err);
    }
    return lookup.call(this, host, ...rest);
  };
}
