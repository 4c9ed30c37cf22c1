// Sends one identify and one track with RudderStack's Node SDK, its data plane pointed at our service. The SDK posts
// them as one gzip-compressed JSON /v1/batch with Content-Type application/x-www-form-urlencoded (axios's type for a
// binary body), the write key as the HTTP Basic user.
// usage: node send-events.mjs <host> <writeKey> <userId> <email>
import Analytics from '@rudderstack/rudder-sdk-node';

const [host, writeKey, userId, email] = process.argv.slice(2);
const failures = [];
const client = new Analytics(writeKey, {
  dataPlaneUrl: host,
  flushAt: 2,
  flushInterval: 60000,
  retryCount: 0,
  logLevel: 'error',
  errorHandler: (err) => failures.push(`${err.response ? err.response.status : err.code} ${err.message}`),
});
client.identify({ userId, traits: { email, name: 'Ada Lovelace', plan: 'pro' } });
client.track({ userId, event: 'Signed Up', properties: { plan: 'pro', seats: 3 } });
await client.flush();
if (failures.length > 0) {
  console.error('rudder-sdk-node reported errors:', JSON.stringify(failures));
  process.exit(1);
}
console.log('sent');
