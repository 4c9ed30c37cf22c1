// Runs Segment's subscription parser (@segment/destination-subscriptions, the one actions-core uses for a mapping's
// trigger) for each case read from stdin. Input: [{ "trigger": "…", "event": {…} }]. Output: [{ "matched": bool } | { "error": "…" }]
'use strict'
const path = require('path')
const { parseFql, validate } = require(path.join(__dirname, 'node_modules', '@segment/destination-subscriptions'))

async function main() {
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const results = JSON.parse(input).map(({ trigger, event }) => {
    const ast = parseFql(trigger)
    return ast.error ? { error: String(ast.error.message) } : { matched: validate(ast, event) }
  })
  process.stdout.write(JSON.stringify(results))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
