'use strict'
// Drives the npm package node-webhooks the way its README shows: register a URL for an event
// name, then trigger events. Prints one JSON line with what it saw.
//
//   node node_webhooks_driver.js URL COUNT MODE IN_FLIGHT TIMEOUT_SECONDS PAYLOAD_JSON
//
// MODE "loop" triggers COUNT events from a plain loop; "throttled" keeps at most IN_FLIGHT
// triggered events unsettled, triggering the next one when a success or failure event of an
// earlier one arrives. The run ends when every event has settled, or after TIMEOUT_SECONDS
// (node-webhooks sets no request timeout of its own), so it always stops by itself.

const WebHooks = require('node-webhooks')

const [url, countArg, mode, inFlightArg, timeoutArg, payloadJson] = process.argv.slice(2)
const count = Number(countArg)
const inFlight = Number(inFlightArg)
const payload = JSON.parse(payloadJson)
const NAME = 'bench'

// An in-memory db: node-webhooks keeps nothing durable about events either way.
const hooks = new WebHooks({ db: {}, httpSuccessCodes: [200, 201, 202, 204] })

hooks.add(NAME, url).then(() => {
  const emitter = hooks.getEmitter()
  let triggered = 0
  let succeeded = 0
  let failed = 0
  const started = process.hrtime.bigint()
  let lastSettled = started

  const finish = (timedOut) => {
    const seconds = Number(lastSettled - started) / 1e9
    process.stdout.write(JSON.stringify({ mode, count, triggered, succeeded, failed, seconds, timedOut }) + '\n')
    process.exit(0)
  }
  const next = () => {
    if (triggered < count) {
      triggered += 1
      hooks.trigger(NAME, payload)
    }
  }
  const settled = () => {
    lastSettled = process.hrtime.bigint()
    if (succeeded + failed >= count) finish(false)
    else if (mode === 'throttled') next()
  }
  emitter.on(NAME + '.success', () => { succeeded += 1; settled() })
  emitter.on(NAME + '.failure', () => { failed += 1; settled() })
  setTimeout(() => finish(true), Number(timeoutArg) * 1000)

  if (mode === 'loop') {
    for (let i = 0; i < count; i++) next()
  } else {
    for (let i = 0; i < inFlight; i++) next()
  }
})
