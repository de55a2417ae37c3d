/* worker.js: the Web Worker of the page (docs/web.md): holds dinornn-sample
 * compiled to WebAssembly and the checkpoint, and answers the page's
 * messages one at a time, in order; the work is web/dinornn-core.js's. */
importScripts('dinornn.js', 'dinornn-core.js');

const core = new DinornnCore(createDinornn);
let queue = Promise.resolve();

self.onmessage = function (event) {
  const msg = event.data || {};
  queue = queue.then(() => core.handle(msg)).then(
    answer => self.postMessage(Object.assign({id: msg.id}, answer)),
    error => self.postMessage({id: msg.id, ok: false, status: 1, out: [],
                               err: [String(error && error.message || error)],
                               error: String(error && error.message || error)}));
};
