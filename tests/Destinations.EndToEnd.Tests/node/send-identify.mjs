// Sends one identify with the official @segment/analytics-node client, its host pointed at our service.
// usage: node send-identify.mjs <host> <writeKey> <userId> <email>
import { Analytics } from '@segment/analytics-node';

const [host, writeKey, userId, email] = process.argv.slice(2);
const analytics = new Analytics({ writeKey, host, flushAt: 1, maxRetries: 0 });
const failures = [];
analytics.on('error', (err) => failures.push(err));
analytics.identify({ userId, traits: { email, name: 'Grace Hopper', plan: 'pro' } });
await analytics.closeAndFlush({ timeout: 10000 });
if (failures.length > 0) {
  console.error('analytics-node reported errors:', JSON.stringify(failures.map(String)));
  process.exit(1);
}
console.log('sent');
