// Runs Segment's published Webhooks (Actions) `send` action (@segment/action-destinations, on @segment/actions-core) for
// each case read from stdin, with the request client's fetch replaced by one that records the request instead of sending it.
// Input: [{ "events": [...], "mapping": {...}, "settings": {...}, "batch": false }]
// Output: [{ "requests": [{ "url", "method", "headers": {name: value}, "body": "text or null" }], "error": "…" }]
'use strict'
const path = require('path')
const modules = path.join(__dirname, 'node_modules')
const fetchModule = require(path.join(modules, '@segment/actions-core/dist/cjs/fetch.js'))
const { Destination } = require(path.join(modules, '@segment/actions-core'))
const webhook = require(path.join(modules, '@segment/action-destinations/dist/destinations/webhook')).default

let recorded = []
fetchModule.default = async (request) => {
  const headers = {}
  for (const [name, value] of request.headers) headers[name] = value
  const body = request.body === null ? null : await request.text()
  recorded.push({ url: request.url, method: request.method, headers, body })
  return new fetchModule.Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })
}

async function main() {
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const cases = JSON.parse(input)
  const destination = new Destination(webhook)
  const results = []
  for (const c of cases) {
    recorded = []
    try {
      if (c.batch) await destination.executeBatch('send', { events: c.events, mapping: c.mapping, settings: c.settings })
      else await destination.executeAction('send', { event: c.events[0], mapping: c.mapping, settings: c.settings })
      results.push({ requests: recorded })
    } catch (e) {
      results.push({ requests: recorded, error: String(e && e.message ? e.message : e) })
    }
  }
  process.stdout.write(JSON.stringify(results))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
